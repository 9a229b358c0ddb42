package kube_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// TestLockRequests: apply takes and releases its Lease on every run, so the
// requests it costs are counted. Release deletes the Lease, so the usual
// case is an absent one: one create to take it, one delete to give it
// back. A Lease that exists (here: left by a crashed apply) is read and
// taken over.
func TestLockRequests(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	ctx := testContext(t)
	agent := "neo4jctl-lock-test/" + ns
	c, err := kube.NewForConfig(env.RESTConfig(), kube.Options{UserAgent: agent})
	if err != nil {
		t.Fatal(err)
	}
	requests := func(since time.Time) []string {
		t.Helper()
		// The API server logs a request once it has answered; give the
		// last one a moment to reach the file.
		time.Sleep(300 * time.Millisecond)
		evs, err := env.AuditEvents()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range evs {
			if ev.UserAgent != agent || ev.Stage != "ResponseComplete" || ev.StageTimestamp.Before(since) {
				continue
			}
			code := 0
			if ev.ResponseStatus != nil {
				code = ev.ResponseStatus.Code
			}
			out = append(out, fmt.Sprintf("%s %d", ev.Verb, code))
		}
		return out
	}

	since := time.Now()
	// A long ttl: the Lease renews itself at a fraction of it, and a renewal
	// inside the window read below (a slow, loaded machine) is not what this
	// test counts.
	l, err := c.AcquireLock(ctx, ns, "prod", "me", 2*time.Minute, 0)
	if err != nil {
		t.Fatalf("AcquireLock: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if got, want := strings.Join(requests(since), ", "), "create 201, delete 200"; got != want {
		t.Errorf("absent Lease: got requests %q, want %q", got, want)
	}

	old := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	createExpiredLease(t, ctx, cs, ns, old)
	since = time.Now()
	l, err = c.AcquireLock(ctx, ns, "prod", "me", 2*time.Minute, 0)
	if err != nil {
		t.Fatalf("AcquireLock over an expired Lease: %v", err)
	}
	defer l.Release(context.Background())
	if got, want := strings.Join(requests(since), ", "), "create 409, get 200, update 200"; got != want {
		t.Errorf("expired Lease: got requests %q, want %q", got, want)
	}
}

// createExpiredLease leaves the lock Lease of cluster "prod" as an apply
// that crashed at renewed would: held by "crashed-apply", long expired.
func createExpiredLease(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns string, renewed metav1.MicroTime) {
	t.Helper()
	if _, err := cs.CoordinationV1().Leases(ns).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: kube.LockName("prod")},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("crashed-apply"), LeaseDurationSeconds: ptr.To(int32(15)),
			AcquireTime: &renewed, RenewTime: &renewed},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
