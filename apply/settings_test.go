package apply

import (
	"context"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// TestRestartServerRestartsOnlyItsPod: a restart-server step deletes the
// one Pod, waits for it through the roll gate (the Pod updated and Ready,
// then the server back), and touches no other Pod.
func TestRestartServerRestartsOnlyItsPod(t *testing.T) {
	_, tg := scenario(t, "no-changes")
	l, k, n := newFakes(3)
	rk := &restartKube{fakeKube: k}
	p := &plan.Plan{Steps: []plan.Step{{ID: "s01", Address: "neo4j:server/" + plantest.ServerIDs[1], Action: plan.ActionUpdate, Kind: plan.KindRestartServer,
		Server:  &plan.ServerStep{ServerID: plantest.ServerIDs[1], StatefulSet: plantest.Name, Ordinal: 1, PodAddress: plantest.PodDNS(plantest.Name, 1)},
		Setting: &plan.SettingStep{Key: "server.memory.heap.max_size", NeedsRestart: true, Keys: []string{"server.memory.heap.max_size"}}}}}
	e := executor(k, n, &recorder{})
	e.Kube = rk
	if _, err := e.Apply(context.Background(), tg, p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := l.get()
	del := slices.Index(got, "evict Pod/prod-1")
	wait := slices.Index(got, "wait Pod/prod-1 updated")
	if del < 0 || wait < del {
		t.Errorf("calls %v: want the Pod prod-1 deleted, then waited for", got)
	}
	for _, c := range got {
		if c == "evict Pod/prod-0" || c == "evict Pod/prod-2" {
			t.Errorf("another Pod restarted: %v", got)
		}
	}
}

// TestSetConfigValueReadsTheRenderedValue: the value comes from the
// rendered dynamic settings' ConfigMap (the plan holds none), and goes to
// the step's server only.
func TestSetConfigValueReadsTheRenderedValue(t *testing.T) {
	_, tg := scenario(t, "no-changes")
	_, k, n := newFakes(3)
	tg.Objects = append(tg.Objects, configMapObject("prod-config-dynamic", "dynamic.conf", "# header\ndb.logs.query.threshold=5s\n"))
	cs := &setterNeo4j{fakeNeo4j: n}
	e := executor(k, n, &recorder{})
	e.Neo4j = func(context.Context) (Neo4j, func(), error) { return cs, func() {}, nil }
	addr := plantest.PodDNS(plantest.Name, 2) + ":7687"
	p := &plan.Plan{Steps: []plan.Step{{ID: "s01", Address: "neo4j:setting/db.logs.query.threshold", Action: plan.ActionUpdate, Kind: plan.KindSetConfigValue,
		Server:  &plan.ServerStep{ServerID: plantest.ServerIDs[2], PodAddress: addr},
		Setting: &plan.SettingStep{Key: "db.logs.query.threshold", Dynamic: true}}}}
	if _, err := e.Apply(context.Background(), tg, p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if want := []string{addr + " db.logs.query.threshold=5s"}; !slices.Equal(cs.calls, want) {
		t.Errorf("setConfigValue calls %v, want %v", cs.calls, want)
	}
}

type setterNeo4j struct {
	*fakeNeo4j
	calls []string
}

func (s *setterNeo4j) SetConfigValue(_ context.Context, address, key, value string) error {
	s.calls = append(s.calls, address+" "+key+"="+value)
	return nil
}

func configMapObject(name, key, data string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": plantest.Namespace}, "data": map[string]any{key: data}}}
}

type restartKube struct{ *fakeKube }

func (k *restartKube) RestartPod(_ context.Context, ns, name string, _ kube.InventoryRef) error {
	k.log.add("evict Pod/%s", name)
	return nil
}
