package plan_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

func mustCompute(t *testing.T, d plan.Desired, k state.Kube, n state.Neo4j, opts plan.Options) *plan.Plan {
	t.Helper()
	p, err := plan.Compute(d, k, n, opts)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return p
}

// kinds lists "address kind" per step, the shape order tests compare.
func kinds(p *plan.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Address+" "+string(s.Kind))
	}
	return out
}

func scenario(name string) plantest.Scenario {
	for _, s := range plantest.Scenarios() {
		if s.Name == name {
			return s
		}
	}
	panic("no scenario " + name)
}

const sts = "k8s:apps/StatefulSet/graph/prod"

func TestComputeFreshNamespaceCreatesEverything(t *testing.T) {
	s := scenario("create-all")
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if p.Incomplete || len(p.Refusals) > 0 {
		t.Fatalf("got incomplete=%v refusals=%v, want a complete plan (nothing to observe in Neo4j yet)", p.Incomplete, p.Refusals)
	}
	for _, st := range p.Steps {
		if st.Object != nil && st.Action != plan.ActionCreate {
			t.Errorf("step %s %s: got action %s, want create", st.ID, st.Address, st.Action)
		}
	}
	want := plan.Summary{Add: 6, Neo4jSteps: 6} // ENABLE and RENAME per server
	if diff := cmp.Diff(want, p.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	// The StatefulSet must wait for its ConfigMap and ServiceAccount.
	st := p.Steps[4]
	if st.Address != sts || len(st.DependsOn) != 2 {
		t.Errorf("got step 5 %s depending on %v, want the StatefulSet after the two identity objects", st.Address, st.DependsOn)
	}
}

func TestComputeConvergedIsEmpty(t *testing.T) {
	s := scenario("no-changes")
	k := s.Kube
	// Equal but differently ordered lists are no change.
	svc := plantest.Object(&k, "Service", "prod")
	ports := svc.Live["spec"].(map[string]any)["ports"].([]any)
	ports[0], ports[1] = ports[1], ports[0]
	p := mustCompute(t, s.Desired, k, s.Neo4j, s.Options)
	if p.HasChanges() || len(p.Refusals) > 0 || p.Incomplete || len(p.Warnings) > 0 {
		t.Errorf("got steps %v refusals %v warnings %v incomplete %v, want an empty plan", kinds(p), p.Refusals, p.Warnings, p.Incomplete)
	}
}

// Scale-out ends balanced (Operations Manual, clustering/servers, "Hosting
// databases on added servers"): each new server is enabled and renamed
// after its Pod, then one REALLOCATE DATABASES after all of them, then a
// wait until every database is online again.
func TestComputeScaleOutOrder(t *testing.T) {
	s := scenario("scale-out")
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	want := []string{
		sts + " scale-statefulset",
		"neo4j:server/prod-3 wait-server-free",
		"neo4j:server/prod-3 enable-server",
		"neo4j:server/prod-3 wait-server-enabled",
		"neo4j:server/prod-3 rename-server",
		"neo4j:server/prod-4 wait-server-free",
		"neo4j:server/prod-4 enable-server",
		"neo4j:server/prod-4 wait-server-enabled",
		"neo4j:server/prod-4 rename-server",
		"neo4j:databases reallocate",
		"neo4j:databases wait-databases-online",
	}
	if diff := cmp.Diff(want, kinds(p)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	if got := *p.Steps[0].Replicas; got != 5 {
		t.Errorf("got replicas %d, want 5", got)
	}
	enable := p.Steps[2]
	if enable.Server.PendingAddress != "neo4j:server/prod-3" || enable.Server.Options == nil || enable.Server.Options.ModeConstraint != "NONE" {
		t.Errorf("got enable params %+v, want pending prod-3 with full options", enable.Server)
	}
	if rn := p.Steps[4]; rn.Server == nil || rn.Server.Name != "prod-3" || rn.Server.PendingAddress != "neo4j:server/prod-3" {
		t.Errorf("got rename params %+v, want the pending prod-3 renamed prod-3", rn.Server)
	}
	for i, st := range p.Steps[1:] {
		if len(st.DependsOn) != 1 || st.DependsOn[0] != p.Steps[i].ID {
			t.Errorf("step %s: got depends_on %v, want [%s] (one at a time)", st.ID, st.DependsOn, p.Steps[i].ID)
		}
	}
	if len(p.DryRunsWanted) != 0 {
		t.Errorf("got dry runs wanted %v, want none: the new servers do not exist yet, apply asks DRYRUN REALLOCATE", p.DryRunsWanted)
	}
}

// A server that is Enabled but hosts nothing (a scale-out an earlier apply
// left before its REALLOCATE) gets the REALLOCATE the DRYRUN says would
// move something, shown in the plan; nothing when the DRYRUN moves nothing.
func TestComputeRebalanceAfterInterruptedScaleOut(t *testing.T) {
	c5 := plantest.Cluster(5)
	d, k, n := plantest.Desired(c5), plantest.Converged(c5, 5), plantest.Neo4j(5)
	p := mustCompute(t, d, k, n, plan.Options{})
	if len(p.Steps) != 0 || len(p.DryRunsWanted) != 1 || p.DryRunsWanted[0].Kind != state.DryRunReallocate {
		t.Fatalf("got steps %v wanted %v, want no steps and a DRYRUN REALLOCATE asked", kinds(p), p.DryRunsWanted)
	}
	n.DryRuns = []state.DryRun{{Kind: state.DryRunReallocate}}
	if p = mustCompute(t, d, k, n, plan.Options{}); p.HasChanges() {
		t.Errorf("got steps %v, want none when the DRYRUN moves nothing", kinds(p))
	}
	n.DryRuns[0].Moves = []state.Move{{Database: "movies", FromServerID: plantest.ServerIDs[0], ToServerID: plantest.ServerIDs[4], Mode: "primary"}}
	p = mustCompute(t, d, k, n, plan.Options{})
	if diff := cmp.Diff([]string{"neo4j:databases reallocate", "neo4j:databases wait-databases-online"}, kinds(p)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	if p.Steps[0].DryRun == nil || len(p.Steps[0].DryRun.Moves) != 1 {
		t.Errorf("got dry run %+v, want the DRYRUN's move shown", p.Steps[0].DryRun)
	}
}

func TestComputeScaleOutRefusedWhenUnhealthy(t *testing.T) {
	s := scenario("scale-out")
	srv := s.Neo4j.Servers[plantest.ServerIDs[1]]
	srv.Health = state.HealthUnavailable
	s.Neo4j.Servers[plantest.ServerIDs[1]] = srv
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if len(p.Steps) != 0 || len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0].Reason, "Unavailable") {
		t.Errorf("got steps %v refusals %v, want no steps and one refusal naming the Unavailable server", kinds(p), p.Refusals)
	}
}

// Scale-in follows the Operations Manual (clustering/servers, "Removing a
// server from the cluster") as NEO4J.md spells it for 5.26: cordon every
// outgoing server, one DEALLOCATE naming all of them, then wait and DROP
// each; replicas go down last.
func TestComputeScaleInOrder(t *testing.T) {
	s := scenario("scale-in")
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	s4, s3 := "neo4j:server/"+plantest.ServerIDs[4], "neo4j:server/"+plantest.ServerIDs[3]
	both := "neo4j:server/" + plantest.ServerIDs[3] + "," + plantest.ServerIDs[4]
	want := []string{
		s4 + " cordon", s3 + " cordon",
		both + " deallocate",
		s4 + " wait-deallocated", s4 + " drop-server",
		s3 + " wait-deallocated", s3 + " drop-server",
		sts + " scale-statefulset",
	}
	if diff := cmp.Diff(want, kinds(p)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	if p.Summary.Irreversible != 3 || p.Steps[0].Irreversible || !p.Steps[2].Irreversible || p.Steps[3].Irreversible {
		t.Errorf("got %d irreversible, want the one DEALLOCATE and the two DROPs (3) marked, cordons and waits not", p.Summary.Irreversible)
	}
	if got := len(p.Steps[2].Servers); got != 2 {
		t.Errorf("got DEALLOCATE naming %d servers, want both outgoing servers in one statement", got)
	}
	if got := p.Steps[7].DependsOn; len(got) != 1 || got[0] != p.Steps[6].ID {
		t.Errorf("got replicas-down depending on %v, want the last DROP %s", got, p.Steps[6].ID)
	}
}

// The DRYRUN DEALLOCATE for every outgoing server is asked for once, at
// plan time: the first Compute asks for it, the second shows Neo4j's
// answer, or refuses what Neo4j refuses.
func TestComputeScaleInDryRun(t *testing.T) {
	ids := []string{plantest.ServerIDs[3], plantest.ServerIDs[4]}
	s := scenario("scale-in")
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	want := []state.DryRun{{Kind: state.DryRunDeallocate, ServerIDs: ids}}
	if diff := cmp.Diff(want, p.DryRunsWanted); diff != "" {
		t.Fatalf("dry runs wanted (-want +got):\n%s", diff)
	}
	if dr := p.Steps[2].DryRun; dr != nil {
		t.Errorf("got a dry-run answer %+v without one observed, want none", dr)
	}

	moves := []state.Move{{Database: "system", FromServerID: ids[0], ToServerID: plantest.ServerIDs[0], Mode: "secondary"}}
	s.Neo4j.DryRuns = []state.DryRun{{Kind: state.DryRunDeallocate, ServerIDs: ids, Moves: moves}}
	p = mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if len(p.DryRunsWanted) != 0 || !p.Applicable() {
		t.Fatalf("got wanted %v refusals %v, want an applicable plan with nothing more to ask", p.DryRunsWanted, p.Refusals)
	}
	dealloc := p.Steps[2]
	if dealloc.Kind != plan.KindDeallocate || dealloc.DryRun == nil || len(dealloc.DryRun.Moves) != 1 ||
		!strings.Contains(dealloc.DryRun.Statement, "'"+ids[0]+"', '"+ids[1]+"'") {
		t.Errorf("got deallocate step %+v, want the DRYRUN's statement and its moves on it", dealloc)
	}

	s.Neo4j.DryRuns[0].Moves, s.Neo4j.DryRuns[0].Refused = nil, "Database 'movies' has only one primary"
	p = mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if len(p.Steps) != 0 || len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0].Reason, "only one primary") {
		t.Errorf("got steps %v refusals %+v, want no steps and Neo4j's refusal", kinds(p), p.Refusals)
	}
}

// A scale-in is refused while a server that stays is Unavailable, and the
// outgoing servers are not cordoned when that would cordon a quorum of a
// database's primaries (Neo4j then refuses DEALLOCATE).
func TestComputeScaleInGuards(t *testing.T) {
	s := scenario("scale-in")
	srv := s.Neo4j.Servers[plantest.ServerIDs[1]]
	srv.Health = state.HealthUnavailable
	s.Neo4j.Servers[plantest.ServerIDs[1]] = srv
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	if len(p.Steps) != 0 || len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0].Reason, "which stays, is Unavailable") {
		t.Errorf("remaining Unavailable: got steps %v refusals %+v, want one refusal naming it", kinds(p), p.Refusals)
	}

	s = scenario("scale-in")
	// movies' three primaries: prod-0, prod-3, prod-4. Cordoning prod-3
	// and prod-4 would cordon two of three.
	for i, a := range s.Neo4j.Databases {
		if a.Name == "movies" && a.ServerID != plantest.ServerIDs[0] {
			ord := 3
			if a.ServerID == plantest.ServerIDs[2] {
				ord = 4
			}
			s.Neo4j.Databases[i].ServerID = plantest.ServerIDs[ord]
		}
	}
	p = mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	var cordons []string
	for _, st := range p.Steps {
		if st.Kind == plan.KindCordon {
			cordons = append(cordons, st.Address)
		}
		if st.Kind == plan.KindDeallocate && !strings.Contains(st.Reason, "a quorum") {
			t.Errorf("got deallocate reason %q, want it to say why prod-3 is not cordoned", st.Reason)
		}
	}
	// prod-4 first (one of three primaries); prod-3 too would be two.
	if want := []string{"neo4j:server/" + plantest.ServerIDs[4]}; !cmp.Equal(want, cordons) {
		t.Errorf("got cordons %v, want %v", cordons, want)
	}
}

func TestComputeScaleInRefusals(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*plantest.Scenario)
		wantFix string
	}{
		{name: "sole primary", mutate: func(s *plantest.Scenario) { plantest.MoveSolePrimary(&s.Neo4j, 4) },
			wantFix: "ALTER DATABASE neo4j SET TOPOLOGY 2 PRIMARIES"},
		{name: "database not online", mutate: func(s *plantest.Scenario) { s.Neo4j.Databases[len(s.Neo4j.Databases)-1].CurrentStatus = "starting" },
			wantFix: "bring movies online"},
		{name: "below system primaries", mutate: func(s *plantest.Scenario) {
			s.Desired.Pools[0].Replicas = 2
			s.Desired.Databases = nil
		}, wantFix: "keep at least 3 servers"},
		{name: "topology no longer fits", mutate: func(s *plantest.Scenario) {
			s.Desired.Pools[0].Replicas = 3
			for i := range s.Neo4j.Databases {
				if s.Neo4j.Databases[i].Name == "movies" {
					s.Neo4j.Databases[i].RequestedPrimaries, s.Neo4j.Databases[i].RequestedSecondaries = 3, 2
					s.Neo4j.Databases[i].CurrentSecondaries = 2
				}
			}
			s.Desired.Databases = nil
		}, wantFix: "keep at least 5 servers"},
		{name: "neo4j not observed", mutate: func(s *plantest.Scenario) {
			s.Neo4j = state.Neo4j{}
			s.Options.SkipNeo4j = true
		}, wantFix: "without --skip-neo4j"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenario("scale-in")
			tt.mutate(&s)
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
			if len(p.Steps) != 0 {
				t.Errorf("got steps %v, want none: a refused sequence plans nothing", kinds(p))
			}
			found := false
			for _, r := range p.Refusals {
				found = found || strings.Contains(r.Fix, tt.wantFix)
			}
			if !found {
				t.Errorf("got refusals %+v, want one whose fix says %q", p.Refusals, tt.wantFix)
			}
			if p.Applicable() {
				t.Errorf("got Applicable() true, want false")
			}
		})
	}
}

func TestComputeNeo4jUnreachableIsIncomplete(t *testing.T) {
	s := plantest.OutOfBand()
	n := state.Neo4j{Reason: "dial tcp 10.0.0.7:7687: connection refused"}
	p := mustCompute(t, s.Desired, s.Kube, n, s.Options)
	if !p.Incomplete || len(p.Unknown) != 1 || p.Unknown[0].Plane != "neo4j" || p.Unknown[0].Reason != n.Reason {
		t.Errorf("got incomplete=%v unknown=%+v, want the neo4j plane unknown with the reason", p.Incomplete, p.Unknown)
	}
	if !p.HasChanges() {
		t.Errorf("got no steps, want the Kubernetes changes still shown")
	}
	for _, st := range p.Steps {
		if strings.HasPrefix(st.Address, "neo4j:") {
			t.Errorf("got Neo4j step %s %s, want none while the plane is unknown", st.Address, st.Kind)
		}
	}
	p = mustCompute(t, s.Desired, s.Kube, n, plan.Options{SkipNeo4j: true})
	if p.Incomplete {
		t.Errorf("--skip-neo4j: got incomplete, want a complete Kubernetes-only plan")
	}
}

func TestComputeIgnoreRules(t *testing.T) {
	scaled := func() plantest.Scenario {
		s := scenario("no-changes")
		o := plantest.Object(&s.Kube, "StatefulSet", "prod")
		o.Live["spec"].(map[string]any)["replicas"] = float64(4)
		o.Live["metadata"].(map[string]any)["annotations"] = map[string]any{"team": "x"}
		o.Managers = append(o.Managers, state.FieldManager{Manager: "kubectl-scale", Operation: "Update", Fields: []string{"spec.replicas"}})
		s.Neo4j = plantest.Neo4j(4)
		return s
	}
	tests := []struct {
		name   string
		ignore []plan.IgnoreRule
		want   []string
	}{
		{name: "no rule", want: []string{"metadata.annotations", "spec.replicas"}},
		{name: "by manager", ignore: []plan.IgnoreRule{{Address: sts, Managers: []string{"kubectl-scale"}}}, want: []string{"metadata.annotations"}},
		{name: "by pointer and glob", ignore: []plan.IgnoreRule{{Address: "k8s:apps/StatefulSet/graph/*", JSONPointers: []string{"/metadata/annotations"}}}, want: []string{"spec.replicas"}},
		{name: "everything ignored is no change", ignore: []plan.IgnoreRule{{Address: sts, JSONPointers: []string{"/spec/replicas", "/metadata/annotations"}}}},
		{name: "rule for another object", ignore: []plan.IgnoreRule{{Address: "k8s:core/Service/graph/*", JSONPointers: []string{"/"}}}, want: []string{"metadata.annotations", "spec.replicas"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scaled()
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{Ignore: tt.ignore})
			var got []string
			for _, st := range p.Steps {
				if st.Address == sts && st.Action == plan.ActionUpdate {
					for _, f := range st.FieldDiffs {
						got = append(got, f.Path)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("field diffs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestComputeManagerAttribution(t *testing.T) {
	p := mustCompute(t, plantest.OutOfBand().Desired, plantest.OutOfBand().Kube, plantest.OutOfBand().Neo4j, plan.Options{})
	for _, st := range p.Steps {
		for _, f := range st.FieldDiffs {
			if f.Path == "spec.template.spec.containers[name=neo4j].image" {
				if f.Manager != "kubectl-edit" || f.Before != "neo4j:5.26.1-enterprise" || f.After != "neo4j:5.26.0-enterprise" {
					t.Errorf("got %+v, want the image change attributed to kubectl-edit", f)
				}
				return
			}
		}
	}
	t.Errorf("got no image field diff, want one")
}

func TestComputeTargetExclude(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		opts     plan.Options
		want     []string
	}{
		{name: "exclude the StatefulSet drops its whole sequence", scenario: "scale-in",
			opts: plan.Options{Excludes: []string{sts}}},
		{name: "exclude one server step drops the sequence", scenario: "scale-in",
			opts: plan.Options{Excludes: []string{"neo4j:server/" + plantest.ServerIDs[3]}}},
		{name: "target a glob", scenario: "out-of-band",
			opts: plan.Options{Targets: []string{"k8s:core/*/graph/*"}},
			want: []string{"k8s:core/ConfigMap/graph/prod-config apply", "k8s:core/Secret/graph/prod-old delete"}},
		{name: "target a server pulls in its sequence", scenario: "scale-out",
			opts: plan.Options{Targets: []string{"neo4j:server/prod-4"}},
			want: []string{sts + " scale-statefulset",
				"neo4j:server/prod-3 wait-server-free", "neo4j:server/prod-3 enable-server", "neo4j:server/prod-3 wait-server-enabled", "neo4j:server/prod-3 rename-server",
				"neo4j:server/prod-4 wait-server-free", "neo4j:server/prod-4 enable-server", "neo4j:server/prod-4 wait-server-enabled", "neo4j:server/prod-4 rename-server",
				"neo4j:databases reallocate", "neo4j:databases wait-databases-online"}},
		{name: "exclude a setting", scenario: "out-of-band",
			opts: plan.Options{Excludes: []string{"neo4j:setting/*", "k8s:core/Secret/*/*"}},
			want: []string{"k8s:core/ConfigMap/graph/prod-config apply", sts + " apply", sts + " rolling-update"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenario(tt.scenario)
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, tt.opts)
			if diff := cmp.Diff(tt.want, kinds(p)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			for i, st := range p.Steps {
				if want := fmt.Sprintf("s%02d", i+1); st.ID != want {
					t.Errorf("got id %s, want %s (ids are renumbered after filtering)", st.ID, want)
				}
			}
		})
	}
	if _, err := plan.Compute(plan.Desired{}, state.Kube{}, state.Neo4j{}, plan.Options{Targets: []string{"["}}); err == nil {
		t.Errorf("bad glob: got nil error, want one")
	}
}

func TestComputeImmutable(t *testing.T) {
	mk := func() plantest.Scenario {
		s := scenario("no-changes")
		o := plantest.Object(&s.Kube, "StatefulSet", "prod")
		o.Live["spec"].(map[string]any)["serviceName"] = "old-headless"
		o.Predicted, o.Immutable = nil, true
		o.DryRunError = `StatefulSet.apps "prod" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas' … are forbidden`
		return s
	}
	s := mk()
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{})
	if len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0].Fix, "--allow-replace") {
		t.Fatalf("got refusals %+v, want one asking for --allow-replace", p.Refusals)
	}
	st := p.Steps[0]
	if st.Action != plan.ActionReplace || len(st.FieldDiffs) != 1 || !st.FieldDiffs[0].ForcesReplacement || st.FieldDiffs[0].Path != "spec.serviceName" {
		t.Errorf("got %s %+v, want a replace forced by spec.serviceName", st.Action, st.FieldDiffs)
	}
	s = mk()
	p = mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{AllowReplace: true})
	if len(p.Refusals) != 0 || p.Summary.Add != 1 || p.Summary.Destroy != 1 {
		t.Errorf("--allow-replace: got refusals %v summary %+v, want none and 1 add + 1 destroy", p.Refusals, p.Summary)
	}
}

func TestComputeDatabases(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(*plantest.Scenario)
		want        []string
		wantRefusal string
		wantWarning string
	}{
		{name: "read-only access", mutate: func(s *plantest.Scenario) {
			s.Desired.Databases[0].Secondaries = 0
			s.Desired.Databases[0].Primaries = 3
			s.Desired.Databases[0].Access = "read-only"
		},
			want: []string{"neo4j:database/movies alter-access"}},
		{name: "many to one refused", mutate: func(s *plantest.Scenario) { s.Desired.Databases[0].Primaries = 1 }, wantRefusal: "51N41"},
		{name: "not in file is kept", mutate: func(s *plantest.Scenario) { s.Desired.Databases = nil },
			// The wording must not claim neo4jctl did not create it: it may have.
			wantWarning: "neo4j:database/movies exists but is not in the cluster file: it is unmanaged (neo4jctl leaves it as it is and never drops a database); add it to spec.databases to manage it."},
		{name: "topology change of a database not online refused", mutate: func(s *plantest.Scenario) {
			s.Desired.Databases[0].Primaries = 2
			for i, a := range s.Neo4j.Databases {
				if a.Name == "movies" && a.ServerID == plantest.ServerIDs[2] {
					s.Neo4j.Databases[i].CurrentStatus, s.Neo4j.Databases[i].StatusMessage = "quarantined", "store corrupted: checksum mismatch"
				}
			}
		},
			wantRefusal: "not online (quarantined on " + plantest.ServerIDs[2] + ": store corrupted: checksum mismatch)"},
		{name: "create", mutate: func(s *plantest.Scenario) {
			s.Desired.Databases = append(s.Desired.Databases, plan.Database{Name: "shop", Primaries: 2, Secondaries: 1})
		}, want: []string{"neo4j:database/shop create-database", "neo4j:database/shop wait-database-online"}},
		{name: "too big for the cluster", mutate: func(s *plantest.Scenario) { s.Desired.Databases[0].Secondaries = 2 }, wantRefusal: "raise spec.servers"},
		{name: "community refuses CREATE DATABASE", mutate: func(s *plantest.Scenario) {
			s.Desired.Edition, s.Neo4j = "community", state.Neo4j{Reachable: true, Edition: "community"}
		}, wantRefusal: "spec.edition: enterprise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenario("no-changes")
			tt.mutate(&s)
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
			if diff := cmp.Diff(tt.want, kinds(p)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			got := ""
			for _, r := range p.Refusals {
				got += r.Reason + " " + r.Fix
			}
			if (tt.wantRefusal == "") != (got == "") || !strings.Contains(got, tt.wantRefusal) {
				t.Errorf("got refusals %q, want one containing %q", got, tt.wantRefusal)
			}
			if tt.wantWarning != "" && !cmp.Equal(p.Warnings, []string{tt.wantWarning}) {
				t.Errorf("got warnings %q, want [%q]", p.Warnings, tt.wantWarning)
			}
		})
	}
}

func TestComputeFreeServerIsEnabled(t *testing.T) {
	s := scenario("no-changes")
	srv := s.Neo4j.Servers[plantest.ServerIDs[2]]
	srv.State = state.ServerFree
	s.Neo4j.Servers[plantest.ServerIDs[2]] = srv
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	id := "neo4j:server/" + plantest.ServerIDs[2]
	if diff := cmp.Diff([]string{id + " enable-server", id + " wait-server-enabled"}, kinds(p)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

// TestCanaryNeverInPlan checks the model itself and its JSON: redaction
// happens in Compute, before any view.
func TestCanaryNeverInPlan(t *testing.T) {
	s := plantest.OutOfBand()
	p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
	var buf bytes.Buffer
	if err := plan.Encode(&buf, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "system_password") {
		t.Fatalf("got no credential setting in the plan, want it present (redacted) so the test means something")
	}
	if strings.Contains(buf.String(), plantest.Canary) {
		t.Errorf("got the canary in the plan JSON")
	}
	if strings.Contains(strings.Join(p.Warnings, "\n"), plantest.Canary) {
		t.Errorf("got the canary in a warning")
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, s := range plantest.Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
			var buf bytes.Buffer
			if err := plan.Encode(&buf, p); err != nil {
				t.Fatal(err)
			}
			got, err := plan.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := plan.Encode(&again, got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(buf.String(), again.String()); diff != "" {
				t.Errorf("re-encoded plan differs (-first +second):\n%s", diff)
			}
			if err := plan.CheckFresh(got, p); err != nil {
				t.Errorf("CheckFresh of a decoded plan: got %v, want nil", err)
			}
		})
	}
	if _, err := plan.Decode(strings.NewReader(`{"format_version":"2"}`)); err == nil {
		t.Errorf("format_version 2: got nil error, want one")
	}
}

func TestCheckFresh(t *testing.T) {
	base := scenario("scale-out")
	saved := mustCompute(t, base.Desired, base.Kube, base.Neo4j, base.Options)
	tests := []struct {
		name   string
		mutate func(*plantest.Scenario)
		want   []string
	}{
		{name: "nothing moved"},
		{name: "object moved", mutate: func(s *plantest.Scenario) {
			o := plantest.Object(&s.Kube, "StatefulSet", "prod")
			o.Generation = 2
		}, want: []string{sts}},
		{name: "replication lag is not a move", mutate: func(s *plantest.Scenario) {
			s.Neo4j.Databases[0].StatusMessage = "lagging"
			s.Neo4j.Databases[0].Options = map[string]any{"x": 1}
		}},
		{name: "server state moved", mutate: func(s *plantest.Scenario) {
			srv := s.Neo4j.Servers[plantest.ServerIDs[0]]
			srv.Health = state.HealthUnavailable
			s.Neo4j.Servers[plantest.ServerIDs[0]] = srv
		}, want: []string{"the Neo4j cluster (servers or databases)"}},
		{name: "cluster file moved", mutate: func(s *plantest.Scenario) { s.Desired.ClusterFileSHA256 = "other" }, want: []string{"the cluster file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenario("scale-out")
			if tt.mutate != nil {
				tt.mutate(&s)
			}
			now := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
			err := plan.CheckFresh(saved, now)
			var stale *plan.StaleError
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			if !errors.As(err, &stale) {
				t.Fatalf("got %v, want a *StaleError", err)
			}
			if diff := cmp.Diff(tt.want, stale.Moved); diff != "" {
				t.Errorf("moved (-want +got):\n%s", diff)
			}
		})
	}
	s := scenario("scale-out")
	o := plantest.Object(&s.Kube, "StatefulSet", "prod")
	o.Fingerprint = "changed"
	err := plan.CheckFresh(saved, mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options))
	if want := "Saved plan is stale: " + sts + " changed since the plan"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want it to start %q", err, want)
	}
}
