package suites

import (
	"sort"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// dryRunsSince returns the objects ("resource/name") the binary dry-ran in
// the cluster's namespace since mark, with their counts, from the API
// server's audit log.
func (c *cluster) dryRunsSince(mark int) map[string]int {
	c.t.Helper()
	out := map[string]int{}
	for _, ev := range neo4jctlRequests(c.t, c.env, mark, c.ns) {
		if isDryRun(ev) && ev.ObjectRef != nil {
			out[ev.ObjectRef.Resource+"/"+ev.ObjectRef.Name]++
		}
	}
	return out
}

// resourceName turns a plan's "Kind/name" into the audit log's
// "resource/name" (the quickstart's kinds pluralise regularly).
func resourceName(kindName string) string {
	kind, name, _ := strings.Cut(kindName, "/")
	r := strings.ToLower(kind)
	if strings.HasSuffix(r, "y") {
		r = strings.TrimSuffix(r, "y") + "ies"
	} else {
		r += "s"
	}
	return r + "/" + name
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestFastPlanSkipsProvablyUnchanged: a plan made by a new process of a
// converged cluster dry-runs nothing — every object carries the hash of
// the configuration apply sent, no other field manager touched it, and it
// still holds every value of that configuration (docs/observe.md). Any
// doubt is a dry run, and the drift it shows: an update by another field
// manager (kubectl patch), a removal by another field manager (which
// leaves no trace in managedFields), a change of the cluster file.
func TestFastPlanSkipsProvablyUnchanged(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{noSim: true})
	c.converge()

	mark := auditMark(t, env)
	if _, res := c.plan(); res.code != 0 {
		t.Fatalf("plan of the converged cluster: want exit 0\n%s", res)
	}
	if got := c.dryRunsSince(mark); len(got) != 0 {
		t.Errorf("plan of a converged cluster dry-ran %v, want nothing", keys(got))
	}
	var reqs []string
	for _, ev := range neo4jctlRequests(t, env, mark, c.ns) {
		reqs = append(reqs, ev.Verb+" "+resourceOf(ev))
	}
	t.Logf("requests of the converged plan: %d: %v", len(reqs), reqs)

	svc := "Service/" + c.name
	outOfBand := []struct {
		name    string
		kubectl []string
	}{
		{"kubectl patch changes a label", []string{"patch", "service", c.name, "--type=merge", "-p",
			`{"metadata":{"labels":{"app.kubernetes.io/name":"intruder"}}}`}},
		{"kubectl patch removes a label", []string{"patch", "service", c.name, "--type=json", "-p",
			`[{"op":"remove","path":"/metadata/labels/app.kubernetes.io~1name"}]`}},
		{"kubectl patch removes a port", []string{"patch", "service", c.name, "--type=json", "-p",
			`[{"op":"remove","path":"/spec/ports/1"}]`}},
	}
	for _, m := range outOfBand {
		if res := c.kubectl(nil, m.kubectl...); res.code != 0 {
			t.Fatalf("%s:\n%s", m.name, res)
		}
		mark := auditMark(t, env)
		p, res := c.plan()
		if res.code != 2 {
			t.Errorf("%s: plan: want exit 2 (the drift)\n%s", m.name, res)
		}
		if got := p.k8sChanges(); len(got) != 1 || got[0] != svc {
			t.Errorf("%s: plan changes %v, want %s alone", m.name, got, svc)
		}
		if got := c.dryRunsSince(mark); len(got) != 1 || got[resourceName(svc)] != 1 {
			t.Errorf("%s: plan dry-ran %v, want %s alone", m.name, got, resourceName(svc))
		}
		c.converge()
	}

	// The cluster file changes: what it changes is dry-run (and shown).
	c.edit(func(doc map[string]any) {
		setPath(doc, "3Gi", "spec", "resources", "neo4j", "limits", "memory")
	})
	mark = auditMark(t, env)
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan after changing the cluster file: want exit 2\n%s", res)
	}
	dry := c.dryRunsSince(mark)
	changed := p.k8sChanges()
	if len(changed) == 0 {
		t.Fatalf("changing the memory limit changes no object:\n%s", res)
	}
	for _, ch := range changed {
		if dry[resourceName(ch)] == 0 {
			t.Errorf("%s changed but was not dry-run (dry runs: %v)", ch, keys(dry))
		}
	}
	t.Logf("changed %v; dry-ran %v", changed, keys(dry))
}
