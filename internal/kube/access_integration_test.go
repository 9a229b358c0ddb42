package kube_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

func TestLock(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	const ttl = 3 * time.Second

	a, err := c.AcquireLock(ctx, ns, "prod", "alice@laptop", ttl, 0)
	if err != nil {
		t.Fatalf("first AcquireLock: %v", err)
	}
	// Outlive the ttl: the background renewal must keep the lock.
	time.Sleep(ttl + time.Second)
	if err := a.Context().Err(); err != nil {
		t.Fatalf("lock context ended while held: %v (%v)", err, context.Cause(a.Context()))
	}

	start := time.Now()
	_, err = c.AcquireLock(ctx, ns, "prod", "ci-job-42", ttl, 1500*time.Millisecond)
	var locked *kube.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("second AcquireLock: got %v, want *LockedError", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("refused after %s, want it to wait for the lock timeout", waited)
	}
	if locked.Holder != "alice@laptop" || time.Since(locked.Since) > 10*time.Second || !strings.Contains(err.Error(), "alice@laptop") {
		t.Errorf("got holder %q since %s (%v), want alice@laptop, recent", locked.Holder, locked.Since, err)
	}

	if err := a.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Errorf("second Release: %v", err)
	}
	b, err := c.AcquireLock(ctx, ns, "prod", "ci-job-42", ttl, 0)
	if err != nil {
		t.Fatalf("AcquireLock after release: %v", err)
	}

	// Someone deletes the Lease: the holder learns it through its context.
	if err := cs.CoordinationV1().Leases(ns).Delete(ctx, kube.LockName("prod"), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Context().Done():
		if !errors.Is(context.Cause(b.Context()), kube.ErrLockLost) {
			t.Errorf("cause = %v, want ErrLockLost", context.Cause(b.Context()))
		}
	case <-time.After(2 * ttl):
		t.Errorf("lock context still alive %s after its Lease was deleted", 2*ttl)
	}
	_ = b.Release(ctx)
}

func TestLockTakesOverAnExpiredLease(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	old := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	createExpiredLease(t, ctx, cs, ns, old)
	l, err := c.AcquireLock(ctx, ns, "prod", "me", 5*time.Second, 0)
	if err != nil {
		t.Fatalf("AcquireLock over an expired lease: %v", err)
	}
	defer l.Release(ctx)
	lease, err := cs.CoordinationV1().Leases(ns).Get(ctx, kube.LockName("prod"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ptr.Deref(lease.Spec.HolderIdentity, ""); got != "me" || ptr.Deref(lease.Spec.LeaseTransitions, 0) != 1 {
		t.Errorf("holder %q transitions %d, want me and 1", got, ptr.Deref(lease.Spec.LeaseTransitions, 0))
	}
}

func TestConcurrentAcquireLockHasOneWinner(t *testing.T) {
	c, _, ns := setup(t)
	ctx := testContext(t)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []*kube.Lock
		refused int
	)
	for _, h := range []string{"a", "b", "c", "d"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := c.AcquireLock(ctx, ns, "prod", h, 10*time.Second, 0)
			mu.Lock()
			defer mu.Unlock()
			var locked *kube.LockedError
			switch {
			case err == nil:
				winners = append(winners, l)
			case errors.As(err, &locked):
				refused++
			default:
				t.Errorf("AcquireLock(%s): %v", h, err)
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 || refused != 3 {
		t.Errorf("got %d winners and %d refusals, want 1 and 3", len(winners), refused)
	}
	for _, l := range winners {
		_ = l.Release(ctx)
	}
}

func TestReadSecretKey(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	const canary = "canary-s3cr3t-value"
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "prod-auth"},
		Data:       map[string][]byte{"NEO4J_AUTH": []byte("neo4j/" + canary)},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadSecretKey(ctx, ns, "prod-auth", "NEO4J_AUTH")
	if err != nil || string(got) != "neo4j/"+canary {
		t.Errorf("ReadSecretKey = %q, %v; want the value", got, err)
	}
	for _, tc := range []struct{ name, key, want string }{
		{"prod-auth", "password", `no key "password" (keys: NEO4J_AUTH)`},
		{"missing", "password", "not found"},
	} {
		_, err := c.ReadSecretKey(ctx, ns, tc.name, tc.key)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), canary) {
			t.Errorf("ReadSecretKey(%s, %s) error = %v, want it to say %q and never the value", tc.name, tc.key, err, tc.want)
		}
	}
}

func TestWaits(t *testing.T) {
	c, _, ns := setup(t)
	ctx := testContext(t)
	inv := kube.InventoryRef{Namespace: ns, Cluster: "prod"}
	sts := objs(t, ns, strings.Replace(renderProd("1", portsInOrder)[0], "replicas: 1", "replicas: 3", 1))
	applyAll(t, ctx, c, inv, sts)

	var (
		mu       sync.Mutex
		progress [][2]int
	)
	err := c.WaitStatefulSet(ctx, ns, "prod-core", 3, func(ready, want int) {
		mu.Lock()
		defer mu.Unlock()
		progress = append(progress, [2]int{ready, want})
	})
	if err != nil {
		t.Fatalf("WaitStatefulSet: %v", err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != [2]int{3, 3} {
		t.Errorf("progress = %v, want it to end with 3/3", progress)
	}
	if err := c.WaitPodReady(ctx, ns, "prod-core-2"); err != nil {
		t.Errorf("WaitPodReady: %v", err)
	}

	// Waiting for a count the StatefulSet will not reach ends with ctx and
	// says how far it got.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	err = c.WaitStatefulSet(short, ns, "prod-core", 5, nil)
	if err == nil || !strings.Contains(err.Error(), "3/5 ready") {
		t.Errorf("WaitStatefulSet for 5 of 3: got %v, want a timeout saying 3/5 ready", err)
	}

	k, err := c.Observe(ctx, sts, inv)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range k.Pods {
		if !p.Ready {
			t.Errorf("pod %s not ready", p.Name)
		}
		names = append(names, p.Name)
	}
	if diff := cmp.Diff([]string{"prod-core-0", "prod-core-1", "prod-core-2"}, names); diff != "" {
		t.Errorf("pods mismatch (-want +got):\n%s", diff)
	}
}

func TestPortForward(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	env := testenv.Shared(t)

	// The "Bolt server": a local echo listener that kwok forwards to.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer conn.Close(); _, _ = io.Copy(conn, conn) }()
		}
	}()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "prod-core-0", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "neo4j", Image: "neo4j", Ports: []corev1.ContainerPort{{ContainerPort: 7687}}}}},
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := env.PortForward(ctx, ns, pod.Name, 7687, ln.Addr().(*net.TCPAddr).Port); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitPodReady(ctx, ns, pod.Name); err != nil {
		t.Fatal(err)
	}

	addr, stop, err := c.PortForward(ctx, ns, pod.Name, 7687)
	if err != nil {
		t.Fatalf("PortForward: %v", err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("local address %q, want 127.0.0.1:<port>", addr)
	}
	for i := range 2 { // two connections through one forward
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte("hello bolt " + string(rune('0'+i)))
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, buf); err != nil {
			t.Fatalf("read through the forward: %v", err)
		}
		if string(buf) != string(msg) {
			t.Errorf("echo = %q, want %q", buf, msg)
		}
		conn.Close()
	}
	stop()
	stop() // idempotent
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("listener %s still accepts after stop", addr)
	}
}
