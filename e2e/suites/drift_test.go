package suites

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestDriftIntruderReplicas (issue 11, item 13): an out-of-band
// `kubectl scale` 3 → 4 and back leaves spec.replicas as the file says —
// no Kubernetes drift on it — but an intruder's spec.replicas: 4 that
// stands is drift, reported by the built binary whatever state the
// servers left behind by the first excursion are in.
func TestDriftIntruderReplicas(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	stsAddr := "k8s:apps/StatefulSet/" + c.ns + "/" + c.name

	if res := c.kubectl(nil, "scale", "statefulset", c.name, "--replicas=4"); res.code != 0 {
		t.Fatalf("kubectl scale 4:\n%s", res)
	}
	c.waitPods(4)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, ok := c.serverOf(c.name + "-3"); ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res := c.kubectl(nil, "scale", "statefulset", c.name, "--replicas=3"); res.code != 0 {
		t.Fatalf("kubectl scale 3:\n%s", res)
	}
	c.waitPods(3)
	if _, found, res := c.driftFinding(stsAddr, "spec.replicas"); found {
		t.Errorf("after a scale out and back, spec.replicas is reported as drift:\n%s", res)
	}

	// The intruder owns spec.replicas with a server-side apply of its own.
	intruder := filepath.Join(c.dir, "intruder.yaml")
	if err := os.WriteFile(intruder, []byte("apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: "+c.name+"\n  namespace: "+c.ns+"\nspec:\n  replicas: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := c.kubectl(nil, "apply", "--server-side", "--force-conflicts", "--field-manager=intruder", "-f", intruder); res.code != 0 {
		t.Fatalf("kubectl apply --server-side replicas 4:\n%s", res)
	}
	var (
		found bool
		res   result
		code  int
	)
	deadline = time.Now().Add(30 * time.Second)
	for {
		code, found, res = c.driftFinding(stsAddr, "spec.replicas")
		if found || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !found || code != 2 {
		t.Errorf("an intruder's spec.replicas: 4 is not reported (exit %d, want 2):\n%s", code, res)
	}
}

// driftFinding runs `neo4jctl drift -o json` and says whether it reports
// a finding on field of addr.
func (c *cluster) driftFinding(addr, field string) (int, bool, result) {
	c.t.Helper()
	res := c.neo4jctl("drift", "-f", c.file, "-o", "json")
	var doc struct {
		Reports []struct {
			Findings []struct {
				Address string `json:"address"`
				Field   string `json:"field"`
			} `json:"findings"`
		} `json:"reports"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		c.t.Fatalf("drift -o json is not JSON: %v\n%s", err, res)
	}
	for _, r := range doc.Reports {
		for _, f := range r.Findings {
			if f.Address == addr && strings.HasPrefix(f.Field, field) {
				return res.code, true, res
			}
		}
	}
	return res.code, false, res
}
