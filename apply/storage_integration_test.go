package apply_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"

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

	class := "expandable-" + f.ns
	expandableClass(ctx, t, cs, class)
	resized := playResizer(ctx, t, cs, f.ns)
	retain := []string{"  storage:\n", "  storage:\n    retention:\n      whenDeleted: Delete\n",
		"storageClassName: standard", "storageClassName: " + class}
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
	var order []string
	for _, s := range p.Steps {
		if s.Kind == plan.KindResizeClaim || s.Kind == plan.KindReplace {
			order = append(order, string(s.Kind)+" "+s.Object.Name)
		}
	}
	wantOrder := []string{"resize-claim data-" + sts + "-2", "resize-claim data-" + sts + "-1", "resize-claim data-" + sts + "-0", "replace " + sts}
	if strings.Join(order, ", ") != strings.Join(wantOrder, ", ") {
		t.Errorf("plan order: got %v, want %v", order, wantOrder)
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
	for _, c := range left.Items {
		if !strings.HasPrefix(c.Name, "data-") {
			continue
		}
		want := resource.MustParse("4Gi")
		if got := c.Status.Capacity[corev1.ResourceStorage]; got.Cmp(want) != 0 {
			t.Errorf("claim %s capacity %s, want 4Gi", c.Name, got.String())
		}
	}
	if n := resized(); n != 3 {
		t.Errorf("the resizer resized %d claims, want 3", n)
	}
	// The claims' size is observed state: the next plan has nothing to do.
	if again := f.plan(ctx, grown); again.HasChanges() || len(again.Refusals) > 0 {
		t.Errorf("plan after the resize: steps %+v refusals %+v, want none", again.Steps, again.Refusals)
	}

	// A shrink is refused, with the reason.
	p, _, err = f.runner(nil).Plan(ctx, f.loadEdited(append(retain, "size: 2Gi", "size: 3Gi")...), plan.Options{AllowReplace: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Applicable() || !strings.Contains(fmt.Sprint(p.Refusals), "can only grow") {
		t.Errorf("shrink 4Gi → 3Gi: got refusals %+v, want the claims refused (a claim can only grow)", p.Refusals)
	}
	// A StorageClass without expansion is refused, with the fix.
	if _, err := cs.StorageV1().StorageClasses().Patch(ctx, class, types.MergePatchType, []byte(`{"allowVolumeExpansion":false}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	p, _, err = f.runner(nil).Plan(ctx, f.loadEdited(append(retain, "size: 2Gi", "size: 8Gi")...), plan.Options{AllowReplace: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Applicable() || !strings.Contains(fmt.Sprint(p.Refusals), "allowVolumeExpansion: true") {
		t.Errorf("grow on a StorageClass without expansion: got refusals %+v, want the claims refused with the fix", p.Refusals)
	}
}

// expandableClass creates a StorageClass like the environment's default
// one (its host-path provisioner) that allows volume expansion, removed at
// the end of the test.
func expandableClass(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	std, err := cs.StorageV1().StorageClasses().Get(ctx, testenv.StorageClassName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: std.Provisioner,
		Parameters: std.Parameters, ReclaimPolicy: std.ReclaimPolicy, VolumeBindingMode: std.VolumeBindingMode, AllowVolumeExpansion: &yes}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.StorageV1().StorageClasses().Delete(context.Background(), name, metav1.DeleteOptions{}) })
}

// playResizer stands in for the parts of Kubernetes that expand a volume:
// the test control plane's host-path provisioner cannot expand volumes and
// kwok runs no kubelet, so nothing would ever report the new size. When a
// claim's request exceeds its status.capacity, it sets the bound
// PersistentVolume's capacity (the CSI resizer's part) and the claim's
// status.capacity (the kubelet's part, after growing the filesystem). The
// rest, the request patch, the wait and the orphan replace with adoption,
// runs for real. It returns how many claims it resized so far.
func playResizer(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) func() int {
	var resized = make(chan int, 1)
	resized <- 0
	go func() {
		for ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			list, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for _, pvc := range list.Items {
				want := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
				have, bound := pvc.Status.Capacity[corev1.ResourceStorage]
				if !bound || want.Cmp(have) <= 0 {
					// Not bound yet (the binder sets the capacity), or
					// nothing to expand.
					continue
				}
				patch := []byte(`{"spec":{"capacity":{"storage":"` + want.String() + `"}}}`)
				if _, err := cs.CoreV1().PersistentVolumes().Patch(ctx, pvc.Spec.VolumeName, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
					t.Logf("resizer: PV %s: %v", pvc.Spec.VolumeName, err)
					continue
				}
				pvc.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: want.DeepCopy()}
				if _, err := cs.CoreV1().PersistentVolumeClaims(ns).UpdateStatus(ctx, &pvc, metav1.UpdateOptions{}); err != nil {
					t.Logf("resizer: claim %s: %v", pvc.Name, err)
					continue
				}
				resized <- <-resized + 1
			}
		}
	}()
	return func() int { n := <-resized; resized <- n; return n }
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
