package kube_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// TestApplyRetriesAcrossAPIServerRestart restarts the API server while
// applies run: every apply must succeed through retries, and the retries
// must be reported. It starts its own control plane, since a restart would
// disturb other tests sharing one.
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
	c, err := kube.NewForConfig(env.RESTConfig(), kube.Options{
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

	restarted := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		restarted <- env.RestartAPIServer(ctx)
	}()
	deadline := time.Now().Add(8 * time.Second)
	applies := 0
	for i := 0; time.Now().Before(deadline); i++ {
		cm := objs(t, ns, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: during-restart, namespace: %s}
data: {n: "%d"}
`, ns, i))[0]
		if _, err := c.Apply(ctx, cm, false); err != nil {
			t.Fatalf("apply %d during the restart: %v", i, err)
		}
		applies++
		time.Sleep(50 * time.Millisecond)
	}
	if err := <-restarted; err != nil {
		t.Fatalf("RestartAPIServer: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(retries) == 0 {
		t.Errorf("%d applies across an API server restart reported no retry", applies)
	}
	for _, r := range retries {
		t.Logf("retry: %s", r)
	}
}
