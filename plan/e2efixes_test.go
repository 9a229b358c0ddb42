package plan_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// fieldDiffs lists "path manager" of every field diff of the plan.
func fieldDiffs(p *plan.Plan) []string {
	var out []string
	for _, st := range p.Steps {
		for _, f := range st.FieldDiffs {
			out = append(out, f.Path+" "+f.Manager)
		}
	}
	return out
}

func mapAt(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		m = m[k].(map[string]any)
	}
	return m
}

func container(obj map[string]any) map[string]any {
	return mapAt(obj, "spec", "template", "spec")["containers"].([]any)[0].(map[string]any)
}

// managedFields key list elements as the API server's schema does (a
// Service port by port and protocol), the diff by name: the manager must be
// found whichever way the element is written.
func TestComputeManagerAcrossListKeyForms(t *testing.T) {
	tests := []struct {
		name   string
		kind   string
		obj    string
		mutate func(o *state.Object)
		fields []string
		want   []string
	}{
		{name: "Service port keyed by port and protocol", kind: "Service", obj: "prod",
			mutate: func(o *state.Object) {
				mapAt(o.Live, "spec")["ports"].([]any)[1].(map[string]any)["targetPort"] = float64(7475)
			},
			fields: []string{"spec.ports[port=7474,protocol=TCP].targetPort"},
			want:   []string{"spec.ports[name=http].targetPort kubectl-patch"}},
		{name: "another port's field is not this one's", kind: "Service", obj: "prod",
			mutate: func(o *state.Object) {
				mapAt(o.Live, "spec")["ports"].([]any)[1].(map[string]any)["targetPort"] = float64(7475)
			},
			fields: []string{"spec.ports[port=7687,protocol=TCP].targetPort"},
			want:   []string{"spec.ports[name=http].targetPort "}},
		{name: "container port keyed by containerPort and protocol", kind: "StatefulSet", obj: "prod",
			mutate: func(o *state.Object) {
				container(o.Live)["ports"].([]any)[1].(map[string]any)["containerPort"] = float64(7475)
				container(o.Live)["ports"].([]any)[1].(map[string]any)["protocol"] = "TCP"
			},
			fields: []string{"spec.template.spec.containers[name=neo4j].ports[containerPort=7475,protocol=TCP].containerPort"},
			want:   []string{"spec.template.spec.containers[name=neo4j].ports[name=http].containerPort kubectl-edit"}},
		{name: "the same key form still matches", kind: "Service", obj: "prod",
			mutate: func(o *state.Object) {
				mapAt(o.Live, "spec")["ports"].([]any)[1].(map[string]any)["targetPort"] = float64(7475)
			},
			fields: []string{"spec.ports[name=http].targetPort"},
			want:   []string{"spec.ports[name=http].targetPort kubectl-patch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenario("no-changes")
			o := plantest.Object(&s.Kube, tt.kind, tt.obj)
			tt.mutate(o)
			manager := "kubectl-patch"
			if tt.kind == "StatefulSet" {
				manager = "kubectl-edit"
			}
			o.Managers = append(o.Managers, state.FieldManager{Manager: manager, Operation: "Update", Fields: tt.fields})
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{})
			if diff := cmp.Diff(tt.want, fieldDiffs(p)); diff != "" {
				t.Errorf("field diffs (-want +got):\n%s", diff)
			}
		})
	}
}

// Quantities are compared by value where a field holds one; the API server
// keeps them as written.
func TestComputeEqualQuantities(t *testing.T) {
	limits := func(o *state.Object, m map[string]any, v string) {
		container(m)["resources"].(map[string]any)["limits"] = map[string]any{"memory": v}
	}
	tests := []struct {
		name   string
		mutate func(o *state.Object)
		want   []string
	}{
		{name: "memory limit in bytes equals 1Gi", mutate: func(o *state.Object) {
			limits(o, o.Live, "1073741824")
			limits(o, o.Predicted, "1Gi")
		}},
		{name: "cpu 1000m equals 1", mutate: func(o *state.Object) {
			mapAt(container(o.Live), "resources", "requests")["cpu"] = "1000m"
		}},
		{name: "claim template storage 10240Mi equals 10Gi", mutate: func(o *state.Object) {
			vct := mapAt(o.Live, "spec")["volumeClaimTemplates"].([]any)[0].(map[string]any)
			mapAt(vct, "spec", "resources", "requests")["storage"] = "10240Mi"
		}},
		{name: "emptyDir sizeLimit 1024Mi equals 1Gi", mutate: func(o *state.Object) {
			vol := func(v string) []any {
				return []any{map[string]any{"name": "tmp", "emptyDir": map[string]any{"sizeLimit": v}}}
			}
			mapAt(o.Live, "spec", "template", "spec")["volumes"] = vol("1024Mi")
			mapAt(o.Predicted, "spec", "template", "spec")["volumes"] = vol("1Gi")
		}},
		{name: "a different amount is a change", mutate: func(o *state.Object) {
			limits(o, o.Live, "2Gi")
			limits(o, o.Predicted, "1Gi")
		}, want: []string{"spec.template.spec.containers[name=neo4j].resources.limits.memory "}},
		{name: "a quantity-looking string elsewhere is compared as a string", mutate: func(o *state.Object) {
			mapAt(o.Live, "spec", "template", "metadata", "annotations")["example.com/size"] = "1073741824"
			mapAt(o.Predicted, "spec", "template", "metadata", "annotations")["example.com/size"] = "1Gi"
		}, want: []string{"spec.template.metadata.annotations.example.com/size "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenario("no-changes")
			tt.mutate(plantest.Object(&s.Kube, "StatefulSet", "prod"))
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{})
			if diff := cmp.Diff(tt.want, fieldDiffs(p)); diff != "" {
				t.Errorf("field diffs (-want +got):\n%s", diff)
			}
			if tt.want == nil && p.HasChanges() {
				t.Errorf("got steps %v, want no change for equal quantities", kinds(p))
			}
		})
	}
}

// setServer changes the state (and health) of the server of Pod ordinal.
func setServer(n *state.Neo4j, ord int, st, health string) {
	s := n.Servers[plantest.ServerIDs[ord]]
	s.State, s.Health = st, health
	n.Servers[plantest.ServerIDs[ord]] = s
}

// An interrupted scale-in leaves outgoing servers Deallocating or
// Deallocated (DEALLOCATE is irreversible): the rerun resumes the sequence
// instead of refusing it.
func TestComputeScaleInResumes(t *testing.T) {
	s4, s3 := "neo4j:server/"+plantest.ServerIDs[4], "neo4j:server/"+plantest.ServerIDs[3]
	tests := []struct {
		name        string
		liveReplica int32
		mutate      func(n *state.Neo4j)
		want        []string
		wantRefusal string
	}{
		{name: "outgoing server Deallocating, its databases moving", liveReplica: 5,
			mutate: func(n *state.Neo4j) {
				setServer(n, 4, state.ServerDeallocating, state.HealthAvailable)
				// movies moves from prod-4 to prod-2: leaving on one, copying on the other.
				for i, a := range n.Databases {
					if a.Name == "movies" && a.ServerID == plantest.ServerIDs[2] {
						n.Databases[i].CurrentStatus = "store copying"
						leaving := a
						leaving.ServerID, leaving.CurrentStatus = plantest.ServerIDs[4], "deallocating"
						n.Databases = append(n.Databases, leaving)
						break
					}
				}
			},
			want: []string{s3 + " cordon", s3 + " deallocate", s4 + " wait-deallocated", s4 + " drop-server",
				s3 + " wait-deallocated", s3 + " drop-server", sts + " scale-statefulset"}},
		{name: "outgoing server Deallocated", liveReplica: 5,
			mutate: func(n *state.Neo4j) { setServer(n, 4, state.ServerDeallocated, state.HealthAvailable) },
			want: []string{s3 + " cordon", s3 + " deallocate", s4 + " drop-server",
				s3 + " wait-deallocated", s3 + " drop-server", sts + " scale-statefulset"}},
		{name: "replicas already lowered, servers Deallocated and Unavailable", liveReplica: 3,
			mutate: func(n *state.Neo4j) {
				for _, ord := range []int{3, 4} {
					setServer(n, ord, state.ServerDeallocated, state.HealthUnavailable)
					for i, a := range n.Databases {
						if a.ServerID == plantest.ServerIDs[ord] {
							n.Databases[i].CurrentStatus, n.Databases[i].StatusMessage = "unknown", "Server is unavailable"
						}
					}
				}
			},
			want: []string{s4 + " drop-server", s3 + " drop-server"}},
		{name: "a remaining server Deallocating is still refused", liveReplica: 5,
			mutate: func(n *state.Neo4j) {
				setServer(n, 1, state.ServerDeallocating, state.HealthAvailable)
				for i, a := range n.Databases {
					if a.ServerID == plantest.ServerIDs[1] && a.Name == "movies" {
						n.Databases[i].CurrentStatus = "deallocating"
					}
				}
			},
			wantRefusal: "movies is not online (deallocating on " + plantest.ServerIDs[1] + ")"},
		{name: "a copy failing on a remaining server is still refused", liveReplica: 5,
			mutate: func(n *state.Neo4j) {
				setServer(n, 4, state.ServerDeallocating, state.HealthAvailable)
				for i, a := range n.Databases {
					if a.Name == "movies" && a.ServerID == plantest.ServerIDs[2] {
						n.Databases[i].CurrentStatus = "offline"
						leaving := a
						leaving.ServerID, leaving.CurrentStatus = plantest.ServerIDs[4], "deallocating"
						n.Databases = append(n.Databases, leaving)
						break
					}
				}
			},
			wantRefusal: "movies is not online (offline on " + plantest.ServerIDs[2] + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c3 := plantest.Cluster(3)
			k := plantest.Converged(c3, tt.liveReplica)
			n := plantest.Neo4j(5)
			tt.mutate(&n)
			p := mustCompute(t, plantest.Desired(c3), k, n, plan.Options{})
			if tt.wantRefusal != "" {
				found := false
				for _, r := range p.Refusals {
					found = found || strings.Contains(r.Reason, tt.wantRefusal)
				}
				if !found || p.Applicable() {
					t.Errorf("got refusals %+v, want one saying %q", p.Refusals, tt.wantRefusal)
				}
				return
			}
			if len(p.Refusals) > 0 || p.Incomplete {
				t.Fatalf("got refusals %+v incomplete %v, want the sequence resumed", p.Refusals, p.Incomplete)
			}
			if diff := cmp.Diff(tt.want, kinds(p)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}

// --skip-neo4j plans the Kubernetes plane only, even for a new cluster.
func TestComputeSkipNeo4jPlansNoNeo4jSteps(t *testing.T) {
	tests := []struct {
		scenario string
		want     []string
	}{
		{scenario: "create-all", want: []string{
			"k8s:core/ConfigMap/graph/prod-config apply", "k8s:core/ServiceAccount/graph/prod apply",
			"k8s:core/Service/graph/prod apply", "k8s:policy/PodDisruptionBudget/graph/prod apply",
			sts + " apply"}},
		{scenario: "scale-out", want: []string{sts + " scale-statefulset"}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			s := scenario(tt.scenario)
			s.Neo4j = state.Neo4j{}
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, plan.Options{SkipNeo4j: true})
			if diff := cmp.Diff(tt.want, kinds(p)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if p.Summary.Neo4jSteps != 0 {
				t.Errorf("got %d Neo4j steps, want none", p.Summary.Neo4jSteps)
			}
			found := false
			for _, w := range p.Warnings {
				found = found || strings.Contains(w, "--skip-neo4j")
			}
			if !found {
				t.Errorf("got warnings %q, want the --skip-neo4j one", p.Warnings)
			}
		})
	}
}

// A scale out onto ordinals without a known server, when the claims could
// not be listed, warns that a volume kept from an earlier scale in would
// bring back a dropped server id (with the claims seen, returning.go plans
// their deletion instead).
func TestComputeScaleOutRetainedVolumeWarning(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *plantest.Scenario)
		want   []string
	}{
		{name: "Retain with data and logs claims", mutate: func(s *plantest.Scenario) {
			s.Desired.Cluster.Spec.Storage.Logs.Size = "1Gi"
			s.Desired.Cluster.Spec.Storage.Retention.WhenScaled = "Retain"
		}, want: []string{
			"if prod-3 ran before and was dropped, its retained volume holds a dropped server id and it will not rejoin: delete PVCs data-prod-3 and logs-prod-3 first (storage retention whenScaled: Retain).",
			"if prod-4 ran before and was dropped, its retained volume holds a dropped server id and it will not rejoin: delete PVCs data-prod-4 and logs-prod-4 first (storage retention whenScaled: Retain).",
		}},
		{name: "no logs claim; a known server is not warned about", mutate: func(s *plantest.Scenario) {
			s.Neo4j.Servers[plantest.ServerIDs[3]] = state.Server{ID: plantest.ServerIDs[3], Name: plantest.ServerIDs[3],
				Address: plantest.PodDNS("prod", 3) + ":7687", State: state.ServerFree, Health: state.HealthAvailable}
		}, want: []string{
			"if prod-4 ran before and was dropped, its retained volume holds a dropped server id and it will not rejoin: delete PVC data-prod-4 first (storage retention whenScaled: Retain).",
		}},
		{name: "Delete retention", mutate: func(s *plantest.Scenario) {
			s.Desired.Cluster.Spec.Storage.Retention.WhenScaled = "Delete"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scenario("scale-out")
			s.Kube.ClaimsObserved = false
			tt.mutate(&s)
			p := mustCompute(t, s.Desired, s.Kube, s.Neo4j, s.Options)
			var got []string
			for _, w := range p.Warnings {
				if strings.Contains(w, "retained volume") {
					got = append(got, w)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
