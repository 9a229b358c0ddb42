package contract

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
)

// TestProductCodesAreDocumented: every Neo4j status code (and GQL status)
// the product's adapter matches on is listed, with its meaning from the
// Status Codes reference, in docs/neo4j.md; and every one the simulator can
// answer with has a row in the simulator's facts table, so the simulator's
// refusals are Neo4j's codes, not its own choice.
func TestProductCodesAreDocumented(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "internal", "neo4j", "errors.go"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "neo4j.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(doc)
	if i := strings.Index(section, "## Status codes neo4jctl matches on"); i >= 0 {
		section = section[i:]
		if j := strings.Index(section[3:], "\n## "); j >= 0 {
			section = section[:j+3]
		}
	} else {
		t.Fatal("docs/neo4j.md: no section \"Status codes neo4jctl matches on\"")
	}
	codes := regexp.MustCompile(`= "(Neo\.[A-Za-z]+\.[A-Za-z]+\.[A-Za-z]+|[0-9]{2}N[0-9A-Z]{2})"`).FindAllStringSubmatch(string(src), -1)
	if len(codes) == 0 {
		t.Fatal("no status codes found in internal/neo4j/errors.go")
	}
	for _, m := range codes {
		code := m[1]
		if !strings.Contains(section, "`"+code+"`") {
			t.Errorf("internal/neo4j matches on %s, which docs/neo4j.md does not list", code)
		}
		simulated := strings.HasPrefix(code, "Neo.") && code != "Neo.ClientError.Security.AuthorizationExpired"
		if _, ok := neo4jsim.LookupFact("status/" + code); simulated && !ok {
			t.Errorf("internal/neo4j matches on %s, which the simulator's facts table does not cite", code)
		}
	}
}
