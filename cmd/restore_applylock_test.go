package cmd

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
)

// countingLocker is a lockTaker that records its calls and refuses.
type countingLocker struct {
	calls  int
	ns, of string
	err    error
}

func (l *countingLocker) AcquireLock(_ context.Context, ns, cluster, _ string, _, _ time.Duration) (*kube.Lock, error) {
	l.calls++
	l.ns, l.of = ns, cluster
	return nil, l.err
}

// TestHoldApplyLockIf: the Lease preamble restore and destroy share takes
// the Lease only when asked (not under --lock=false or --dry-run, where it
// hands back the caller's context and a release that does nothing), and
// a Lease held by another run is exit 1, as holdApplyLock says.
func TestHoldApplyLockIf(t *testing.T) {
	c := &clusterfile.Cluster{}
	c.Metadata.Name = "prod"
	tg := &pipeline.Target{Cluster: c, Namespace: "graphs"}
	ctx := context.WithValue(context.Background(), struct{}{}, "caller's")

	l := &countingLocker{}
	got, release, err := holdApplyLockIf(ctx, false, l, tg, time.Second, &bytes.Buffer{})
	if err != nil || got != ctx || l.calls != 0 {
		t.Fatalf("off: ctx %v, err %v, %d lock calls; want the caller's context, no error, no call", got, err, l.calls)
	}
	release()

	l.err = &kube.LockedError{Lease: "prod-apply", Holder: "someone"}
	_, _, err = holdApplyLockIf(ctx, true, l, tg, time.Second, &bytes.Buffer{})
	var ec *ExitCodeError
	if l.calls != 1 || l.ns != "graphs" || l.of != "prod" || !errors.As(err, &ec) || ec.Code != ExitError {
		t.Errorf("on, held by another run: %d calls on %s/%s, err %v; want one call on graphs/prod and exit 1", l.calls, l.ns, l.of, err)
	}
}
