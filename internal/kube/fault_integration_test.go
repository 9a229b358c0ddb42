package kube_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// TestApplyRetriesAcrossAPIServerRestart restarts the API server while
// applies run: every apply must succeed through retries, and the retries
// must be reported. It starts its own control plane, since a restart would
// disturb other tests sharing one.
//
// A restart can fall between two applies of a loop (it did, in CI: "110
// applies … reported no retry"), so one apply is made to meet it: its
// request is held in the client's transport, already issued, until the old
// API server no longer accepts connections, and only then sent. It must
// succeed, through a retry.
func TestApplyRetriesAcrossAPIServerRestart(t *testing.T) {
	testenv.Shared(t) // skips under -short or without binaries
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{Nodes: 1, Logf: t.Logf})
	if err != nil {
		t.Fatalf("start own control plane: %v", err)
	}
	// A cleanup, not a defer: cleanups run last-in first-out, so the
	// namespace Namespace registers is deleted while the server still runs.
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	ns := testenv.Namespace(t, env)

	var (
		mu      sync.Mutex
		retries []string
	)
	cfg := rest.CopyConfig(env.RESTConfig())
	hold := &holdNext{arrived: make(chan struct{}), release: make(chan struct{})}
	cfg.Wrap(hold.wrap)
	c, err := kube.NewForConfig(cfg, kube.Options{
		// The restart takes a few seconds; allow ≈ 20 s of retries.
		Backoff: wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 10, Cap: 2 * time.Second},
		OnRetry: func(what string, attempt int, err error) {
			mu.Lock()
			defer mu.Unlock()
			retries = append(retries, fmt.Sprintf("%s #%d: %v", what, attempt, err))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cm := func(name string, i int) *unstructured.Unstructured {
		return objs(t, ns, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: %s, namespace: %s}
data: {n: "%d"}
`, name, ns, i))[0]
	}
	// The API server is up and the client has a connection to it.
	if _, err := c.Apply(ctx, cm("held", 0), false); err != nil {
		t.Fatalf("apply before the restart: %v", err)
	}

	// The held apply: issued now, sent once the server is down.
	hold.arm()
	heldDone := make(chan error, 1)
	var heldRetries atomic.Int32
	go func() {
		hctx := kube.WithRetryHook(ctx, func(what string, attempt int, err error) {
			heldRetries.Add(1)
			mu.Lock()
			defer mu.Unlock()
			retries = append(retries, fmt.Sprintf("held: %s #%d: %v", what, attempt, err))
		})
		_, err := c.Apply(hctx, cm("held", 1), false)
		heldDone <- err
	}()
	select {
	case <-hold.arrived:
	case <-ctx.Done():
		t.Fatal("the held apply never reached the transport")
	}
	oldPID := env.Running()["kube-apiserver"]
	if oldPID == 0 {
		t.Fatal("no kube-apiserver process in the environment")
	}
	restarted := make(chan error, 1)
	go func() { restarted <- env.RestartAPIServer(ctx) }()
	down := make(chan error, 1)
	go func() {
		err := waitDown(ctx, env, oldPID, cfg.Host)
		hold.free()
		down <- err
	}()

	// Applies in a loop for as long as the restart lasts: each succeeds.
	applies := 0
	for i := 0; ; i++ {
		select {
		case err := <-restarted:
			if err != nil {
				t.Fatalf("RestartAPIServer: %v", err)
			}
			restarted = nil
		default:
		}
		if restarted == nil && applies > 0 {
			break
		}
		if _, err := c.Apply(ctx, cm("during-restart", i), false); err != nil {
			t.Fatalf("apply %d during the restart: %v", i, err)
		}
		applies++
		time.Sleep(50 * time.Millisecond)
	}
	if err := <-down; err != nil {
		t.Fatalf("the old API server never went away with its port refusing connections: %v", err)
	}
	if err := <-heldDone; err != nil {
		t.Fatalf("the apply sent while the API server was down: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range retries {
		t.Logf("retry: %s", r)
	}
	if heldRetries.Load() == 0 {
		t.Errorf("the apply sent while the API server was down reported no retry (%d retries in all, %d applies in the loop)", len(retries), applies)
	}
}

// holdNext holds the next PATCH (a server-side apply) in the transport
// until released.
type holdNext struct {
	armed   atomic.Bool
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func (h *holdNext) arm()  { h.armed.Store(true) }
func (h *holdNext) free() { h.once.Do(func() { close(h.release) }) }

func (h *holdNext) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPatch && h.armed.CompareAndSwap(true, false) {
			close(h.arrived)
			<-h.release
		}
		return rt.RoundTrip(r)
	})
}

// waitDown waits until the old API server process has exited (with it,
// the connections it still served while shutting down) and its port
// refuses connections: the new process listens only once it has set
// itself up, seconds after it starts.
func waitDown(ctx context.Context, env *testenv.Env, oldPID int, host string) error {
	u, err := url.Parse(host)
	if err != nil {
		return err
	}
	for {
		if env.Running()["kube-apiserver"] != oldPID {
			conn, err := net.DialTimeout("tcp", u.Host, 100*time.Millisecond)
			if err != nil {
				return nil
			}
			_ = conn.Close()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
