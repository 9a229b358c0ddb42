package pipeline

import (
	"context"
	"fmt"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// A port-forward that ended on its own is not handed out again: client-go
// ends the whole forward when the server end resets one connection (the
// simulator refusing a login did, under kwok), and its closed port then
// refused the next password's dial. TestRotatePasswordKilledAfterEachStep
// failed that way in CI ("dial tcp 127.0.0.1:33419: connect: connection
// refused" after a forward to quickstart-0 was reset).
func TestForwarderReopensAnEndedForward(t *testing.T) {
	var opened []string
	var dones []chan struct{}
	f := &forwarder{ctx: context.Background(), open: map[string]openForward{}, cluster: &clusterfile.Cluster{Metadata: clusterfile.Metadata{Name: "g"}},
		forward: func(_ context.Context, ns, pod string, port int) (string, <-chan struct{}, func(), error) {
			local := fmt.Sprintf("127.0.0.1:%d", 40000+len(opened))
			opened = append(opened, ns+"/"+pod)
			done := make(chan struct{})
			dones = append(dones, done)
			return local, done, func() {}, nil
		}}
	const adv = "g-0.g.prod.svc.cluster.local:7687"
	first := f.resolve(adv)
	if again := f.resolve(adv); again != first || len(opened) != 1 {
		t.Fatalf("a live forward: got %s after %s and %d forwards opened, want the same one", again, first, len(opened))
	}
	close(dones[0]) // it ended: a stream reset
	second := f.resolve(adv)
	if second == first || len(opened) != 2 || opened[1] != "prod/g-0" {
		t.Errorf("after the forward ended: got %s (first %s), opened %v; want a new forward to prod/g-0", second, first, opened)
	}
	if again := f.resolve(adv); again != second || len(opened) != 2 {
		t.Errorf("the new forward is not reused: %s, %d opened", again, len(opened))
	}
}
