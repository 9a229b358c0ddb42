package cmd

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/lifecycle"
)

// TestDestroyFlagsAreCommandLineOnly: the destroy gates are never read
// from the environment.
func TestDestroyFlagsAreCommandLineOnly(t *testing.T) {
	for _, name := range []string{"auto-approve", "delete-data", "confirm-name", "lock"} {
		if !commandLineOnly[name] {
			t.Errorf("--%s is not in commandLineOnly: NEO4JCTL_%s would approve a destroy", name, strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
		}
	}
	t.Setenv("NEO4JCTL_CONFIRM_NAME", "quickstart")
	t.Setenv("NEO4JCTL_DELETE_DATA", "true")
	var got *DestroyOptions
	io, _, _, _ := iostreams.Test()
	f := &Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}
	root := NewCmdRoot(f)
	for _, c := range root.Commands() {
		if c.Name() == "destroy" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(NewCmdDestroy(f, func(o *DestroyOptions) error { got = o; return nil }))
	root.SetArgs([]string{"destroy", "-f", "x.yaml"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.ConfirmName != "" || got.DeleteData {
		t.Errorf("environment set ConfirmName=%q DeleteData=%v, want neither", got.ConfirmName, got.DeleteData)
	}
}

// claimsOf waits until the cluster's StatefulSet controller has made its
// claims and returns their names.
func claimsOf(t *testing.T, cs kubernetes.Interface, ns string, want int) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		list, err := cs.CoreV1().PersistentVolumeClaims(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range list.Items {
			if c.DeletionTimestamp == nil {
				names = append(names, c.Name)
			}
		}
		sort.Strings(names)
		if len(names) >= want || time.Now().After(deadline) {
			return names
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// remaining lists what is left in ns of the kinds neo4jctl renders.
func remaining(t *testing.T, dyn dynamic.Interface, ns string) []string {
	t.Helper()
	var out []string
	for _, gvr := range []schema.GroupVersionResource{
		{Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "services"},
		{Version: "v1", Resource: "serviceaccounts"}, {Group: "apps", Version: "v1", Resource: "statefulsets"},
		{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
		{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"},
	} {
		list, err := dyn.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range list.Items {
			if u.GetDeletionTimestamp() != nil || u.GetName() == "default" || u.GetName() == "kube-root-ca.crt" {
				continue
			}
			out = append(out, gvr.Resource+"/"+u.GetName())
		}
	}
	sort.Strings(out)
	return out
}

// failAfter is a DestroyKube that fails every delete after the first n,
// as a destroy killed midway leaves the cluster.
type failAfter struct {
	lifecycle.DestroyKube
	n int
}

var errKilled = errors.New("killed")

func (f *failAfter) tick() error {
	if f.n == 0 {
		return errKilled
	}
	f.n--
	return nil
}
func (f *failAfter) Delete(ctx context.Context, r kube.Ref) error {
	if err := f.tick(); err != nil {
		return err
	}
	return f.DestroyKube.Delete(ctx, r)
}
func (f *failAfter) DeleteClaim(ctx context.Context, ns, name, cluster, uid string) error {
	if err := f.tick(); err != nil {
		return err
	}
	return f.DestroyKube.DeleteClaim(ctx, ns, name, cluster, uid)
}
func (f *failAfter) DeleteInventory(ctx context.Context, inv kube.InventoryRef) error {
	if err := f.tick(); err != nil {
		return err
	}
	return f.DestroyKube.DeleteInventory(ctx, inv)
}

// TestDestroy: destroy deletes exactly the inventory, keeps the claims and
// the objects that only carry the cluster's labels, refuses without a
// confirmation, never takes --auto-approve for the name --delete-data
// needs, finishes an interrupted destroy when rerun, and deletes the
// claims only with --delete-data and the name.
func TestDestroy(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane")
	}
	env, ns, file := appliedQuickstart(t)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	claims := claimsOf(t, cs, ns, 6)
	if len(claims) != 6 {
		t.Fatalf("claims = %v, want 6 (data and logs of 3 servers)", claims)
	}
	// Out of band: an object with the cluster's labels that neo4jctl did
	// not apply, and one someone labelled into the set itself.
	inv := kube.InventoryRef{Namespace: ns, Cluster: "quickstart"}
	for name, labels := range map[string]map[string]string{
		"labelled-only": {kube.ClusterLabel: "quickstart", "app.kubernetes.io/name": "neo4j"},
		"labelled-in":   {kube.ClusterLabel: "quickstart", kube.ApplySetPartOfLabel: inv.ID()},
	} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: map[string]string{"keep": "me"}}
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
			t.Fatal(err)
		}
	}
	before := remaining(t, dyn, ns)

	// Without a confirmation (no terminal, no flag): refused, nothing deleted.
	code, stdout, stderr := runApplyCLI(t, env, "destroy", "-f", file)
	if code != ExitError || !strings.Contains(stderr, "--auto-approve, or --confirm-name") {
		t.Errorf("destroy without confirmation: exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "- k8s:apps/StatefulSet/"+ns+"/quickstart") || !strings.Contains(stdout, "kept (pass --delete-data") ||
		!strings.Contains(stdout, "k8s:core/ConfigMap/"+ns+"/labelled-in") {
		t.Errorf("the plan should list the StatefulSet, the kept claims and the foreign member:\n%s", stdout)
	}
	// --delete-data with --auto-approve: the name is still needed.
	code, _, stderr = runApplyCLI(t, env, "destroy", "-f", file, "--delete-data", "--auto-approve")
	if code != ExitError || !strings.Contains(stderr, "--confirm-name quickstart") {
		t.Errorf("--delete-data --auto-approve: exit %d, want a refusal naming --confirm-name:\n%s", code, stderr)
	}
	// A wrong name.
	if code, _, stderr = runApplyCLI(t, env, "destroy", "-f", file, "--delete-data", "--confirm-name", "prod"); code != ExitError {
		t.Errorf("--confirm-name prod: exit %d, want 1:\n%s", code, stderr)
	}
	if got := remaining(t, dyn, ns); !cmp.Equal(before, got) {
		t.Fatalf("a refused destroy changed objects (-before +after):\n%s", cmp.Diff(before, got))
	}

	// Another apply holds the Lease: refused, nothing deleted.
	kc, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lock, err := kc.AcquireLock(ctx, ns, "quickstart", "alice@ci-runner pid 4242", 30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runApplyCLI(t, env, "destroy", "-f", file, "--auto-approve")
	if code != ExitError || !strings.Contains(stderr, "alice@ci-runner") {
		t.Errorf("destroy while another holds the lock: exit %d, want a refusal naming the holder:\n%s", code, stderr)
	}
	if err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if got := remaining(t, dyn, ns); !cmp.Equal(before, got) {
		t.Fatalf("a locked-out destroy changed objects (-before +after):\n%s", cmp.Diff(before, got))
	}

	// Killed after two deletes: the inventory stays, and a rerun finishes.
	io, _, out, errOut := iostreams.Test()
	o := &DestroyOptions{IO: io, File: file, AutoApprove: true, Lock: true, Output: "human",
		kube:     func() (destroyKube, error) { return kc, nil },
		wrapKube: func(k lifecycle.DestroyKube) lifecycle.DestroyKube { return &failAfter{DestroyKube: k, n: 2} },
	}
	if err := o.Run(ctx); !errors.Is(err, errKilled) || !strings.Contains(err.Error(), "run destroy again") {
		t.Fatalf("interrupted destroy: %v\n%s\n%s", err, out, errOut)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, inv.ParentName(), metav1.GetOptions{}); err != nil {
		t.Fatalf("the inventory is gone after an interrupted destroy: %v", err)
	}
	if _, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "quickstart", metav1.GetOptions{}); err == nil {
		t.Errorf("the StatefulSet (first phase) survived the first two deletes")
	}

	code, stdout, stderr = runApplyCLI(t, env, "destroy", "-f", file, "--auto-approve")
	if code != 0 {
		t.Fatalf("destroy rerun: exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := []string{"configmaps/labelled-in", "configmaps/labelled-only"}
	if got := remaining(t, dyn, ns); !cmp.Equal(want, got) {
		t.Errorf("after destroy (-want +got):\n%s", cmp.Diff(want, got))
	}
	if got := claimsOf(t, cs, ns, 6); !cmp.Equal(claims, got) {
		t.Errorf("claims after destroy (-want +got):\n%s", cmp.Diff(claims, got))
	}
	// Nothing left to destroy: a rerun is a no-op.
	if code, stdout, stderr = runApplyCLI(t, env, "destroy", "-f", file, "--auto-approve"); code != 0 || !strings.Contains(stdout, "no inventory") {
		t.Errorf("destroy of a destroyed cluster: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// --delete-data with the name: the claims go (the StatefulSet's
	// templates name them, the inventory no longer exists).
	code, stdout, stderr = runApplyCLI(t, env, "destroy", "-f", file, "--delete-data", "--confirm-name", "quickstart")
	if code != 0 {
		t.Fatalf("destroy --delete-data: exit %d\n%s\n%s", code, stdout, stderr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("claims left after --delete-data: %d", len(list.Items))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := remaining(t, dyn, ns); !cmp.Equal(want, got) {
		t.Errorf("after destroy --delete-data (-want +got):\n%s", cmp.Diff(want, got))
	}
}
