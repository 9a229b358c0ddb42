package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/plan"
)

// loadEdited writes the quickstart with the fixture's namespace, edited by
// the replacer's old/new pairs, and loads it.
func (f *fixture) loadEdited(pairs ...string) *pipeline.Target {
	f.t.Helper()
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		f.t.Fatal(err)
	}
	s := strings.Replace(string(b), "namespace: neo4j", "namespace: "+f.ns, 1)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			f.t.Fatalf("the quickstart has no %q to edit", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	path := filepath.Join(f.dir, "cluster.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		f.t.Fatal(err)
	}
	t, err := pipeline.Load(path, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return t
}

// podUIDs maps the StatefulSet's Pods to their UIDs.
func podUIDs(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, sts string) map[string]string {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pods.Items {
		if strings.HasPrefix(p.Name, sts+"-") && p.DeletionTimestamp == nil {
			out[p.Name] = string(p.UID)
		}
	}
	return out
}

// TestReplaceStatefulSetKeepsPods changes an immutable field of the
// StatefulSet (the data claim template's size) and applies with
// --allow-replace: the old StatefulSet goes with orphan propagation, the
// new one adopts the running Pods (kube-controller-manager's StatefulSet
// controller and garbage collector run for real), so every Pod keeps its
// UID and every claim stays, though the retention policy (whenDeleted:
// Delete) makes the old StatefulSet own the claims.
func TestReplaceStatefulSetKeepsPods(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cs, err := kubernetes.NewForConfig(f.env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}

	retain := []string{"  storage:\n", "  storage:\n    retention:\n      whenDeleted: Delete\n"}
	t3 := f.loadEdited(retain...)
	f.apply(ctx, t3, f.plan(ctx, t3))
	sts := t3.Desired.Pools[0].StatefulSet
	before := podUIDs(ctx, t, cs, f.ns, sts)
	if len(before) != 3 {
		t.Fatalf("Pods before the replace: %v, want 3", before)
	}
	claims, err := cs.CoreV1().PersistentVolumeClaims(f.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldSts, err := cs.AppsV1().StatefulSets(f.ns).Get(ctx, sts, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned := 0
	for _, c := range claims.Items {
		if o := metav1.GetControllerOf(&c); o != nil && o.UID == oldSts.UID {
			owned++
		}
	}
	t.Logf("%d of %d claims owned by the StatefulSet (whenDeleted: Delete)", owned, len(claims.Items))

	grown := f.loadEdited(append(retain, "size: 2Gi", "size: 4Gi")...)
	p, _, err := f.runner(nil).Plan(ctx, grown, plan.Options{AllowReplace: true})
	if err != nil {
		t.Fatal(err)
	}
	var replace *plan.Step
	for i, s := range p.Steps {
		if s.Kind == plan.KindReplace {
			replace = &p.Steps[i]
		}
	}
	if replace == nil || !p.Applicable() {
		t.Fatalf("plan: want an applicable StatefulSet replace, got steps %+v refusals %+v", p.Steps, p.Refusals)
	}
	for _, want := range []string{"orphan propagation", "Pods keep running", "PersistentVolumeClaims are kept", "adopts the running Pods"} {
		if !strings.Contains(replace.Reason, want) {
			t.Errorf("replace reason %q does not say %q", replace.Reason, want)
		}
	}

	start := time.Now()
	res := f.apply(ctx, grown, p)
	t.Logf("orphan replace: %s, %s", time.Since(start).Round(time.Millisecond), res.SummaryLine())

	newSts, err := cs.AppsV1().StatefulSets(f.ns).Get(ctx, sts, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if newSts.UID == oldSts.UID {
		t.Fatalf("the StatefulSet was not replaced (same UID %s)", newSts.UID)
	}
	if after := podUIDs(ctx, t, cs, f.ns, sts); !equalMaps(before, after) {
		t.Errorf("Pods across the replace: before %v, after %v; want the same Pods (same UIDs)", before, after)
	}
	// Adoption: the controller sets the new StatefulSet as every Pod's
	// controller.
	deadline := time.Now().Add(30 * time.Second)
	for {
		pods, err := cs.CoreV1().Pods(f.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		adopted := 0
		for _, pod := range pods.Items {
			if c := metav1.GetControllerOf(&pod); c != nil && c.UID == newSts.UID {
				adopted++
			}
		}
		if adopted == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 Pods adopted by the new StatefulSet", adopted)
		}
		time.Sleep(200 * time.Millisecond)
	}
	left, err := cs.CoreV1().PersistentVolumeClaims(f.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]string{}
	for _, c := range left.Items {
		if c.DeletionTimestamp == nil {
			uids[c.Name] = string(c.UID)
		}
	}
	for _, c := range claims.Items {
		if uids[c.Name] != string(c.UID) {
			t.Errorf("claim %s (uid %s) after the replace: uid %q, want kept", c.Name, c.UID, uids[c.Name])
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
