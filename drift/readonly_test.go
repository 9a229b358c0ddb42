package drift

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNeverImportsApply keeps drift read-only by construction: nothing it
// links, directly or not, can execute a plan.
func TestNeverImportsApply(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/neo4jctl/neo4jctl/apply" || strings.HasPrefix(dep, "github.com/neo4jctl/neo4jctl/apply/") {
			t.Fatalf("drift depends on %s", dep)
		}
	}
}
