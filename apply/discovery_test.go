package apply

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

// discoveryNeo4j keeps one discovery mode per server address and moves
// them all on MoveToNextDiscoveryVersion, as the procedure for moving an
// entire cluster does.
type discoveryNeo4j struct {
	*fakeNeo4j
	mu       sync.Mutex
	modes    map[string]string
	moves    int
	reloaded []string
}

func (d *discoveryNeo4j) DiscoveryState(_ context.Context, address string) (neo4j.DiscoveryState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.modes[address]
	cmp := "Matching"
	if m == "V1_ONLY" || m == "V2_ONLY" {
		cmp = "N/A"
	}
	return neo4j.DiscoveryState{Mode: m, StateComparison: cmp}, nil
}

func (d *discoveryNeo4j) MoveToNextDiscoveryVersion(context.Context, string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.moves++
	for a, m := range d.modes {
		d.modes[a] = plan.DiscoveryModes[slices.Index(plan.DiscoveryModes, m)+1]
	}
	return nil
}

func (d *discoveryNeo4j) ReloadTLS(_ context.Context, address string) error {
	d.reloaded = append(d.reloaded, address)
	return nil
}

func discoveryFakes(t *testing.T, modes ...string) (*Executor, *discoveryNeo4j) {
	t.Helper()
	_, k, n := newFakes(3)
	d := &discoveryNeo4j{fakeNeo4j: n, modes: map[string]string{}}
	for i := 0; i < 3; i++ {
		d.modes[plantest.PodDNS(plantest.Name, i)+":7687"] = modes[i%len(modes)]
	}
	e := executor(k, n, &recorder{})
	e.Neo4j = func(context.Context) (Neo4j, func(), error) { return d, func() {}, nil }
	return e, d
}

func moveSteps() *plan.Plan {
	p := &plan.Plan{}
	for i, to := range plan.DiscoveryModes[1:] {
		p.Steps = append(p.Steps, plan.Step{ID: "s0" + string(rune('1'+i)), Address: "neo4j:setting/" + plan.SettingDiscoveryVersion,
			Action: plan.ActionNeo4j, Kind: plan.KindDiscoveryMove, Discovery: &plan.DiscoveryStep{From: plan.DiscoveryModes[i], To: to}})
	}
	return p
}

// TestDiscoveryMoveIsRerunnable: from V1_ONLY the three steps move the
// cluster three times; a rerun after an interruption at V2_OVER_V1 moves
// it only once more (the steps already done see their mode and send
// nothing); servers in different modes stop the move without a call.
func TestDiscoveryMoveIsRerunnable(t *testing.T) {
	ctx := context.Background()
	e, d := discoveryFakes(t, "V1_ONLY")
	_, tg := scenario(t, "no-changes")
	if _, err := e.Apply(ctx, tg, moveSteps()); err != nil {
		t.Fatalf("move from V1_ONLY: %v", err)
	}
	if d.moves != 3 {
		t.Errorf("from V1_ONLY: %d moves, want 3", d.moves)
	}
	for a, m := range d.modes {
		if m != "V2_ONLY" {
			t.Errorf("%s runs %s, want V2_ONLY", a, m)
		}
	}

	e, d = discoveryFakes(t, "V2_OVER_V1")
	if _, err := e.Apply(ctx, tg, moveSteps()); err != nil {
		t.Fatalf("rerun from V2_OVER_V1: %v", err)
	}
	if d.moves != 1 {
		t.Errorf("rerun from V2_OVER_V1: %d moves, want 1", d.moves)
	}

	e, d = discoveryFakes(t, "V1_ONLY", "V1_OVER_V2")
	_, err := e.Apply(ctx, tg, moveSteps())
	if err == nil || d.moves != 0 {
		t.Errorf("mixed modes: err %v, %d moves; want a stop and no move", err, d.moves)
	}
}

// TestReloadTLSOnItsServer: a reload-tls step runs on the step's server,
// at the address SHOW SERVERS gives it.
func TestReloadTLSOnItsServer(t *testing.T) {
	e, d := discoveryFakes(t, "V2_ONLY")
	_, tg := scenario(t, "no-changes")
	p := &plan.Plan{Steps: []plan.Step{{ID: "s01", Address: "neo4j:server/" + plantest.ServerIDs[1], Action: plan.ActionNeo4j, Kind: plan.KindReloadTLS,
		Server: &plan.ServerStep{ServerID: plantest.ServerIDs[1]}}}}
	if _, err := e.Apply(context.Background(), tg, p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(d.reloaded) != 1 || !strings.HasPrefix(d.reloaded[0], plantest.PodDNS(plantest.Name, 1)) {
		t.Errorf("reloaded %v, want the server of %s-1 only", d.reloaded, plantest.Name)
	}
}
