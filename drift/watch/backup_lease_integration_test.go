package watch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	dwatch "github.com/neo4jctl/neo4jctl/drift/watch"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	watchmanifests "github.com/neo4jctl/neo4jctl/manifests/watch"
)

// TestWatchEnforceLeavesAnOfflineBackupAlone: while `neo4jctl backup
// create --offline` holds the cluster's apply Lease and has scaled the
// StatefulSet to 0, watch in enforce mode sees the drift, sees the Lease,
// and does not scale the server back up under the dump; once the backup
// has scaled back and released the Lease, watch is in sync without having
// applied anything. The backup's footprint is made with the code the
// command runs (kube.Client.AcquireLock with the apply Lease's TTL,
// kube.Client.ScaleStatefulSet); only the dump Job in between is left
// out (cmd's TestBackupCreateOfflineCommunity runs it).
func TestWatchEnforceLeavesAnOfflineBackupAlone(t *testing.T) {
	f := newFixture(t)
	f.grant(t, watchmanifests.Options{Mode: dwatch.ModeEnforce}, nil)
	w := f.startWatch(t, "--mode", "enforce", "--retry-base", "300ms")
	if _, ok := w.waitFor(t, "in-sync", typeIs("in-sync")); !ok {
		t.Fatalf("no in-sync event:\n%s", w.dump())
	}
	ctx := context.Background()
	kc, err := kube.NewForConfig(f.env.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns, name := f.ns, f.cluster.Metadata.Name
	holder := "alice@laptop pid 4242 (backup create --offline)"
	lock, err := kc.AcquireLock(ctx, ns, name, holder, 30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := f.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	sts, err := cs.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	replicas := *sts.Spec.Replicas
	scaled := time.Now()
	if err := kc.ScaleStatefulSet(ctx, ns, name, 0); err != nil {
		t.Fatal(err)
	}
	stsAddr := "k8s:apps/StatefulSet/" + ns + "/" + name
	if _, ok := w.waitFor(t, "drift on the StatefulSet", func(e dwatch.Event) bool {
		return e.Type == "drift" && e.Time.After(scaled) && strings.Contains(strings.Join(e.Addresses, " "), stsAddr)
	}); !ok {
		t.Fatalf("the scale-down was not reported as drift:\n%s", w.dump())
	}
	if _, ok := w.waitFor(t, "enforce refused by the Lease", func(e dwatch.Event) bool {
		return e.Time.After(scaled) && strings.Contains(e.Message, "not enforcing now") && strings.Contains(e.Message, holder)
	}); !ok {
		t.Fatalf("watch did not say the Lease stops it:\n%s", w.dump())
	}
	// A few retries' worth (--retry-base 300ms): the server stays down.
	time.Sleep(3 * time.Second)
	if got, _ := cs.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{}); got == nil || *got.Spec.Replicas != 0 {
		t.Fatalf("watch scaled the StatefulSet under the backup's Lease: %v\n%s", got.Spec.Replicas, w.dump())
	}
	// The backup ends: scale back, release.
	restored := time.Now()
	if err := kc.ScaleStatefulSet(ctx, ns, name, replicas); err != nil {
		t.Fatal(err)
	}
	if err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.waitFor(t, "in-sync after the backup", func(e dwatch.Event) bool {
		return e.Type == "in-sync" && e.Time.After(restored)
	}); !ok {
		t.Fatalf("no in-sync after the backup scaled back:\n%s", w.dump())
	}
	w.mu.Lock()
	for _, e := range w.events {
		if e.Type == "applied" && e.Time.After(scaled) {
			t.Errorf("watch applied during or after the backup: %s", e.Message)
		}
	}
	w.mu.Unlock()
	if err := w.stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, w.dump())
	}
}
