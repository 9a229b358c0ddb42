package views

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

var driftFormats = map[string]string{
	FormatText:     "txt",
	FormatJSON:     "json",
	FormatMarkdown: "md",
	FormatGitHub:   "github.txt",
}

// driftReports are the situations the drift views are tested on: in sync,
// and the out-of-band scenario (its Canary planted in a Secret, an env value
// and neo4j.conf) plus an Unavailable server and two policy violations.
func driftReports(t *testing.T) map[string]*drift.Report {
	t.Helper()
	build := func(s plantest.Scenario, edit func(n *state.Neo4j)) *drift.Report {
		c := s.Desired.Cluster
		c.Source = &clusterfile.Source{File: "clusters/prod.yaml", Positions: map[string]clusterfile.Position{
			"metadata.name": {Line: 4}, "spec.version": {Line: 8}, "spec.servers": {Line: 10}, "spec.config": {Line: 14},
			"spec.config[server.memory.heap.max_size]": {Line: 15}, "spec.policies[0]": {Line: 22}, "spec.policies[1]": {Line: 27},
		}}
		c.Spec.Policies = []clusterfile.PolicyRule{
			{Name: "heap-at-least-4g", Severity: "critical", Setting: "server.memory.heap.max_size", Min: "4g"},
			{Name: "lts-image", Severity: "warning", Kind: "StatefulSet", JSONPointer: "/spec/template/spec/containers/neo4j/image", Regex: `^neo4j:5\.26\.0`},
		}
		n := s.Neo4j
		if edit != nil {
			edit(&n)
		}
		tg := &pipeline.Target{File: "clusters/prod.yaml", Cluster: c, Namespace: plantest.Namespace, Desired: s.Desired}
		p, err := plan.Compute(s.Desired, s.Kube, n, s.Options)
		if err != nil {
			t.Fatal(err)
		}
		obs := pipeline.Observed{Kube: s.Kube, Neo4j: n}
		r := drift.FromPlan(p, obs, tg)
		r.Violations = drift.EvaluateLive(drift.RulesOf(c), obs)
		// FromPlan counts; recount after adding violations as Detect does.
		r.Summary.Violations = len(r.Violations)
		at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
		r.CheckedAt = &at
		return r
	}
	out := map[string]*drift.Report{}
	for _, s := range plantest.Scenarios() {
		if s.Name == "no-changes" {
			out["in-sync"] = build(s, nil)
		}
	}
	r := build(plantest.OutOfBand(), func(n *state.Neo4j) {
		s := n.Servers[plantest.ServerIDs[1]]
		s.Health = state.HealthUnavailable
		n.Servers[plantest.ServerIDs[1]] = s
	})
	r.Mode, r.ModeReason = "structural", "the credentials may not dry-run apply"
	out["out-of-band"] = r
	return out
}

func TestDriftViewsGolden(t *testing.T) {
	for name, r := range driftReports(t) {
		for format, ext := range driftFormats {
			t.Run(name+"/"+format, func(t *testing.T) {
				v, err := NewDriftView(format, false)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := v.Render(&buf, []*drift.Report{r}); err != nil {
					t.Fatal(err)
				}
				got := buf.String()
				if strings.Contains(got, plantest.Canary) {
					t.Fatalf("output holds the canary:\n%s", got)
				}
				golden := filepath.Join("testdata", "drift", name+"."+ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("%s differs (-want +got):\n%s", golden, diff)
				}
			})
		}
	}
}

// TestDriftGitHubAnnotations pins what GitHub needs: an ::error per
// error-or-worse finding at its cluster-file line, ::warning for warnings,
// and escaped messages.
func TestDriftGitHubAnnotations(t *testing.T) {
	r := driftReports(t)["out-of-band"]
	var buf bytes.Buffer
	if err := (githubDrift{}).Render(&buf, []*drift.Report{r}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"::error file=clusters/prod.yaml,line=8,title=drift k8s%3Aapps/StatefulSet/graph/prod::spec.template.spec.containers[name=neo4j].image is \"neo4j:5.26.1-enterprise\", the cluster file says \"neo4j:5.26.0-enterprise\" (changed by kubectl-edit)\n",
		"::warning file=clusters/prod.yaml,line=4,title=drift k8s%3Acore/Secret/graph/prod-old::",
		"::error file=clusters/prod.yaml,line=22,title=policy heap-at-least-4g::neo4j:setting/server.memory.heap.max_size:",
		"::warning file=clusters/prod.yaml,line=27,title=policy lts-image::",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("annotations lack %q:\n%s", want, out)
		}
	}
	if got := ghEscape("a%b\nc"); got != "a%25b%0Ac" {
		t.Errorf("ghEscape: got %q", got)
	}
}

func TestDriftSummaryLine(t *testing.T) {
	for _, tc := range []struct {
		r    drift.Report
		want string
	}{
		{drift.Report{}, NoDrift},
		{drift.Report{Incomplete: true}, "Drift unknown: a plane could not be observed."},
		{drift.Report{Summary: drift.Summary{Kubernetes: 2, Neo4j: 1, Violations: 1}}, "Drift: 3 differences (2 Kubernetes, 1 Neo4j), 1 policy violation."},
	} {
		if got := DriftSummaryLine(&tc.r); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
