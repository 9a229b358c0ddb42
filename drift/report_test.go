package drift

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// withSource gives a hand-built cluster the positions Load would record,
// so findings carry cluster-file lines.
func withSource(c *clusterfile.Cluster) *clusterfile.Cluster {
	c.Source = &clusterfile.Source{File: "cluster.yaml", Positions: map[string]clusterfile.Position{
		"metadata.name": {Line: 4}, "spec": {Line: 6}, "spec.version": {Line: 8}, "spec.servers": {Line: 10},
		"spec.config": {Line: 14}, "spec.config[server.memory.heap.max_size]": {Line: 15},
		"spec.databases": {Line: 17}, "spec.databases[0]": {Line: 18}, "spec.databases[0].access": {Line: 21},
	}}
	return c
}

func target(c *clusterfile.Cluster) *pipeline.Target {
	return &pipeline.Target{File: "cluster.yaml", Cluster: c, Namespace: plantest.Namespace, Desired: plantest.Desired(c)}
}

func report(t *testing.T, tg *pipeline.Target, k state.Kube, n state.Neo4j) *Report {
	t.Helper()
	p, err := plan.Compute(tg.Desired, k, n, plan.Options{Ignore: IgnoreRules(tg.Cluster)})
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return FromPlan(p, pipeline.Observed{Kube: k, Neo4j: n}, tg)
}

// row is the part of a finding the table compares.
type row struct {
	Address, Field string
	Kind           FindingKind
	Live, Desired  any
	Manager        string
	Severity       Severity
	Source         string
	Line           int
}

func rows(r *Report) []row {
	var out []row
	for _, f := range r.Findings {
		out = append(out, row{f.Address, f.Field, f.Kind, f.Live, f.Desired, f.Manager, f.Severity, f.Source, f.Line})
	}
	return out
}

const (
	sts = "k8s:apps/StatefulSet/graph/prod"
	cm  = "k8s:core/ConfigMap/graph/prod-config"
	ctr = "spec.template.spec.containers[name=neo4j]"
)

func TestFromPlan(t *testing.T) {
	server1 := "neo4j:server/" + plantest.ServerIDs[1]
	tests := []struct {
		name  string
		setup func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j)
		want  []row
	}{
		{
			name:  "in sync",
			setup: func(*clusterfile.Cluster, *state.Kube, *state.Neo4j) {},
		},
		{
			name: "replicas scaled by kubectl",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				o := plantest.Object(k, "StatefulSet", plantest.Name)
				o.Live["spec"].(map[string]any)["replicas"] = float64(2)
				o.Managers = append(o.Managers, state.FieldManager{Manager: "kubectl", Operation: "Update", Fields: []string{"spec.replicas"}})
			},
			want: []row{{Address: sts, Field: "spec.replicas", Kind: Changed, Live: float64(2), Desired: float64(3), Manager: "kubectl",
				Severity: SeverityError, Source: "spec.servers", Line: 10}},
		},
		{
			name: "image changed, attributed, mapped to spec.version",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				o := plantest.Object(k, "StatefulSet", plantest.Name)
				o.Live["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"] = "neo4j:5.26.1-enterprise"
				o.Managers = append(o.Managers, state.FieldManager{Manager: "kubectl-set", Operation: "Update", Fields: []string{ctr + ".image"}})
			},
			want: []row{{Address: sts, Field: ctr + ".image", Kind: Changed, Live: "neo4j:5.26.1-enterprise", Desired: plantest.Image,
				Manager: "kubectl-set", Severity: SeverityError, Source: "spec.version", Line: 8}},
		},
		{
			name: "neo4j.conf edited: one finding per setting",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				o := plantest.Object(k, "ConfigMap", plantest.Name+"-config")
				o.Live["data"].(map[string]any)["neo4j.conf"] = "server.memory.heap.max_size=1G\ndb.logs.query.enabled=OFF\n"
				o.Managers = append(o.Managers, state.FieldManager{Manager: "kubectl-edit", Operation: "Update", Fields: []string{"data.neo4j.conf"}})
			},
			want: []row{
				{Address: cm, Field: "data.neo4j.conf[db.logs.query.enabled]", Kind: Changed, Live: "OFF", Manager: "kubectl-edit",
					Severity: SeverityError, Source: "spec.config", Line: 14},
				{Address: cm, Field: "data.neo4j.conf[server.memory.heap.max_size]", Kind: Changed, Live: "1G", Desired: "2G", Manager: "kubectl-edit",
					Severity: SeverityError, Source: "spec.config[server.memory.heap.max_size]", Line: 15},
			},
		},
		{
			name: "object deleted",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				plantest.Object(k, "PodDisruptionBudget", plantest.Name).Live = nil
			},
			want: []row{{Address: "k8s:policy/PodDisruptionBudget/graph/prod", Kind: Missing, Severity: SeverityError, Source: "spec.servers", Line: 10}},
		},
		{
			name: "server unavailable and server free",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				s := n.Servers[plantest.ServerIDs[1]]
				s.Health = state.HealthUnavailable
				n.Servers[plantest.ServerIDs[1]] = s
				s = n.Servers[plantest.ServerIDs[2]]
				s.State = state.ServerFree
				n.Servers[plantest.ServerIDs[2]] = s
			},
			want: []row{
				{Address: server1, Field: "health", Kind: Unhealthy, Live: "Unavailable", Desired: "Available", Severity: SeverityCritical, Source: "spec.servers", Line: 10},
				{Address: "neo4j:server/" + plantest.ServerIDs[2], Field: "state", Kind: Unhealthy, Live: "Free", Desired: "Enabled", Severity: SeverityCritical, Source: "spec.servers", Line: 10},
			},
		},
		{
			name: "server gone from SHOW SERVERS",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				delete(n.Servers, plantest.ServerIDs[2])
			},
			want: []row{{Address: "neo4j:server/prod-2", Kind: Missing, Desired: "Enabled", Severity: SeverityCritical, Source: "spec.servers", Line: 10}},
		},
		{
			name: "database offline and access changed",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				c.Spec.Databases[0].Access = "read-write"
				for i := range n.Databases {
					if n.Databases[i].Name == "movies" {
						n.Databases[i].Access = "read-only"
						if n.Databases[i].ServerID == plantest.ServerIDs[1] {
							n.Databases[i].CurrentStatus = "offline"
						}
					}
				}
			},
			want: []row{
				{Address: "neo4j:database/movies", Field: "access", Kind: Changed, Live: "read-only", Desired: "read-write", Severity: SeverityError, Source: "spec.databases[0].access", Line: 21},
				{Address: "neo4j:database/movies", Field: "status", Kind: Unhealthy, Live: "offline on prod-1", Desired: "online", Severity: SeverityCritical, Source: "spec.databases[0]", Line: 18},
			},
		},
		{
			name: "setting changed on the servers",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				n.Settings["server.memory.heap.max_size"] = state.Setting{Name: "server.memory.heap.max_size", Value: "1G", Dynamic: true}
			},
			want: []row{{Address: "neo4j:setting/server.memory.heap.max_size", Field: "value", Kind: Changed, Live: "1G", Desired: "2G",
				Severity: SeverityError, Source: "spec.config[server.memory.heap.max_size]", Line: 15}},
		},
		{
			name: "setting written in other units is no drift",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				n.Settings["server.memory.heap.max_size"] = state.Setting{Name: "server.memory.heap.max_size", Value: "2048.00MiB"}
			},
		},
		{
			name: "setting different on one server only",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				// The server the connection reached agrees; prod-1 (it
				// restarted with other settings) does not.
				same := map[string]state.Setting{"server.memory.heap.max_size": {Name: "server.memory.heap.max_size", Value: "2G"}}
				n.ServerSettings = map[string]map[string]state.Setting{
					plantest.ServerIDs[0]: same,
					plantest.ServerIDs[1]: {"server.memory.heap.max_size": {Name: "server.memory.heap.max_size", Value: "1G"}},
					plantest.ServerIDs[2]: same,
				}
			},
			want: []row{{Address: "neo4j:setting/server.memory.heap.max_size", Field: "value", Kind: Changed, Live: "1G", Desired: "2G",
				Severity: SeverityError, Source: "spec.config[server.memory.heap.max_size]", Line: 15}},
		},
		{
			name: "duration written in other units is no drift",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				c.Spec.Config["db.transaction.timeout"] = "1m"
				n.Settings["db.transaction.timeout"] = state.Setting{Name: "db.transaction.timeout", Value: "60s", Dynamic: true}
			},
		},
		{
			name: "ignore rules hide a manager's fields and a Neo4j address",
			setup: func(c *clusterfile.Cluster, k *state.Kube, n *state.Neo4j) {
				c.Spec.Ignore = []clusterfile.IgnoreRule{
					{Address: sts, ManagedFieldsManagers: []string{"hpa"}},
					{Address: "neo4j:setting/*", JSONPointers: []string{"/value"}},
				}
				o := plantest.Object(k, "StatefulSet", plantest.Name)
				o.Live["spec"].(map[string]any)["replicas"] = float64(3)
				o.Live["spec"].(map[string]any)["podManagementPolicy"] = "OrderedReady"
				o.Managers = append(o.Managers, state.FieldManager{Manager: "hpa", Operation: "Update", Fields: []string{"spec.podManagementPolicy"}})
				n.Settings["server.memory.heap.max_size"] = state.Setting{Name: "server.memory.heap.max_size", Value: "1G"}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := withSource(plantest.Cluster(3))
			k := plantest.Converged(c, 3)
			n := plantest.Neo4j(3)
			tc.setup(c, &k, &n)
			r := report(t, target(c), k, n)
			if diff := cmp.Diff(tc.want, rows(r)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall: %+v", diff, r.Findings)
			}
			if got, want := r.InSync(), len(tc.want) == 0; got != want {
				t.Errorf("InSync: got %v, want %v", got, want)
			}
			if r.Fails(SeverityError) != (len(tc.want) > 0) {
				t.Errorf("Fails(error): got %v with %d findings", r.Fails(SeverityError), len(tc.want))
			}
		})
	}
}

// TestFromPlanRedacts: the out-of-band scenario plants a password in an env
// value, in neo4j.conf, in a setting and in an orphaned Secret; no part of
// the report may hold it, and the secret changes still count.
func TestFromPlanRedacts(t *testing.T) {
	s := plantest.OutOfBand()
	c := withSource(s.Desired.Cluster)
	tg := &pipeline.Target{File: "cluster.yaml", Cluster: c, Namespace: plantest.Namespace, Desired: s.Desired}
	r := report(t, tg, s.Kube, s.Neo4j)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), plantest.Canary) {
		t.Fatalf("the report holds the canary:\n%s", b)
	}
	var sensitive, extra int
	for _, f := range r.Findings {
		if f.Sensitive {
			sensitive++
		}
		if f.Kind == Extra {
			extra++
			if f.Severity != SeverityWarning {
				t.Errorf("orphan %s: severity %s, want warning", f.Address, f.Severity)
			}
		}
	}
	if sensitive == 0 || extra != 1 {
		t.Errorf("got %d sensitive findings and %d extra, want some sensitive and 1 extra: %+v", sensitive, extra, r.Findings)
	}
	if got := r.Summary.Managers; !cmp.Equal(got, []string{"kubectl-edit"}) {
		t.Errorf("managers: got %v, want [kubectl-edit]", got)
	}
}

// TestFromPlanIncomplete: a Neo4j plane that was not observed makes the
// report incomplete, and no Neo4j finding is guessed.
func TestFromPlanIncomplete(t *testing.T) {
	c := plantest.Cluster(3)
	r := report(t, target(c), plantest.Converged(c, 3), state.Neo4j{Reason: "connection refused"})
	if !r.Incomplete || len(r.Unknown) != 1 || r.Unknown[0].Plane != "neo4j" {
		t.Errorf("got Incomplete=%v Unknown=%+v, want the neo4j plane unknown", r.Incomplete, r.Unknown)
	}
	if len(r.Findings) != 0 {
		t.Errorf("findings: got %+v, want none", r.Findings)
	}
}

func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		s, min Severity
		want   bool
	}{
		{SeverityInfo, SeverityError, false},
		{SeverityWarning, SeverityError, false},
		{SeverityError, SeverityError, true},
		{SeverityCritical, SeverityError, true},
		{SeverityInfo, SeverityInfo, true},
		{"bogus", SeverityCritical, true},
	} {
		if got := tc.s.AtLeast(tc.min); got != tc.want {
			t.Errorf("%s.AtLeast(%s): got %v, want %v", tc.s, tc.min, got, tc.want)
		}
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Error("ParseSeverity(urgent): got no error")
	}
	if s, err := ParseSeverity("Critical"); err != nil || s != SeverityCritical {
		t.Errorf("ParseSeverity(Critical): got %q, %v", s, err)
	}
}

// TestStructuralQuantities: without a dry run the rendered "1000m" meets
// the API server's canonical "1"; that is no drift, a real change is.
func TestStructuralQuantities(t *testing.T) {
	c := plantest.Cluster(3)
	k := plantest.Converged(c, 3)
	k.Mode = "structural"
	for i := range k.Objects {
		k.Objects[i].Predicted = nil
	}
	o := plantest.Object(&k, "StatefulSet", plantest.Name)
	res := func(m map[string]any) map[string]any {
		return m["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["resources"].(map[string]any)["requests"].(map[string]any)
	}
	res(o.Desired)["cpu"], res(o.Desired)["memory"] = "1000m", "4096Mi"
	res(o.Live)["cpu"], res(o.Live)["memory"] = "1", "4Gi"
	if r := report(t, target(c), k, plantest.Neo4j(3)); len(r.Findings) != 0 {
		t.Errorf("equal quantities: got findings %+v, want none", r.Findings)
	}
	res(o.Live)["cpu"] = "2"
	r := report(t, target(c), k, plantest.Neo4j(3))
	if len(r.Findings) != 1 || r.Findings[0].Field != ctr+".resources.requests.cpu" {
		t.Errorf("cpu 2 against 1000m: got %+v, want one cpu finding", r.Findings)
	}
}
