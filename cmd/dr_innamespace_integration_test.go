package cmd

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestDRDrillInNamespace runs what spec.backups.drill.schedule's CronJob
// runs, `dr drill --in-namespace --secrets-namespace NS`, through the cmd
// layer on the real control plane with kwok and the simulator, in the
// standing drill namespace (manifests.DrillObjects applied first), with
// the drill ServiceAccount's own token (its Roles only: no namespace
// verbs, nothing cluster-scoped, so the run cannot see the kwok nodes and
// is not marked simulated): the
// drill meets its objectives, is recorded as the Job's, and leaves the
// namespace in place with only the standing drill objects in it (the
// scratch cluster's StatefulSet, claims, Secrets' copies, Roles, Lease
// and inventory deleted object by object). A namespace without the drill
// label, or none at all, is refused and left as it was.
func TestDRDrillInNamespace(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, _ := communityRestoreFixture(t, ctx)
	cs, err := f.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets(f.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"keyset.json": "{}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := putDumpEntry(t, f.bucket, "community", "neo4j", time.Now().Add(-30*time.Minute))
	markVerified(t, f.bucket, e.ID)
	b, err := os.ReadFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	spec := string(b) + "    drill:\n      schedule: \"0 5 * * 1\"\n    objectives:\n      rto: 10m\n      rpo: 1h\n"
	if err := os.WriteFile(f.file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.LoadFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	drillNS := manifests.DrillNamespaceName(c, f.ns)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), drillNS, metav1.DeleteOptions{}) })

	// The standing objects, as apply puts them there.
	objs, err := manifests.DrillObjects(c, f.ns)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(f.env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(f.env.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	for _, o := range objs {
		m, err := mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dyn.Resource(m.Resource).Namespace(o.GetNamespace()).Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "neo4jctl", Force: true}); err != nil {
			t.Fatalf("apply %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	standing := func() map[string][]string {
		out := map[string][]string{}
		for _, gvr := range drillNamespaceKinds {
			list, err := dyn.Resource(gvr).Namespace(drillNS).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for _, o := range list.Items {
				out[gvr.Resource] = append(out[gvr.Resource], o.GetName())
			}
		}
		for _, l := range out {
			sort.Strings(l)
		}
		return out
	}
	before := standing()

	sim, err := harness.StartSim(ctx, f.env, f.c, drillNS, "community-pw-1", neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetNodeCount("neo4j", 42)
	t.Setenv(manifests.DrillJobNameEnv, "neo4jctl-drill-29412345")
	var sawScratch bool
	watchCtx, stopWatch := context.WithCancel(ctx)
	go func() {
		for watchCtx.Err() == nil {
			if _, err := cs.AppsV1().StatefulSets(drillNS).Get(watchCtx, "community", metav1.GetOptions{}); err == nil {
				sawScratch = true
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	asSA, err := f.env.ServiceAccountKubeconfig(ctx, drillNS, manifests.DrillServiceAccountName)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLIAsCtx(ctx, asSA, "dr", "drill", "-f", f.file, "--in-namespace", "--secrets-namespace", f.ns, "--secrets-dir", t.TempDir(),
		"--neo4j-password-file", f.pwFile, "-o", "json", "--step-timeout", "60s")
	stopWatch()
	if code != ExitOK {
		t.Fatalf("dr drill --in-namespace: exit %d\n%s\n%s", code, out, errOut)
	}
	var r drillJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if !r.Met || len(r.Counts) != 1 || r.Counts[0].Nodes != 42 || !sawScratch {
		t.Errorf("report: met %v counts %+v, scratch StatefulSet seen %v\n%s", r.Met, r.Counts, sawScratch, out)
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, drillNS, metav1.GetOptions{})
	if err != nil || ns.DeletionTimestamp != nil {
		t.Fatalf("the drill namespace: %v (deleting %v)", err, ns.DeletionTimestamp)
	}
	after := standing()
	for res, names := range after {
		if !slices.Equal(names, before[res]) {
			t.Errorf("%s left in %s: %v, before the drill %v", res, drillNS, names, before[res])
		}
	}
	for _, want := range [][2]string{{"cronjobs", manifests.DrillCronJobName}, {"roles", manifests.DrillRoleName}, {"configmaps", manifests.DrillConfigMapName}, {"serviceaccounts", manifests.DrillServiceAccountName}} {
		if want[0] == "cronjobs" {
			if _, err := cs.BatchV1().CronJobs(drillNS).Get(ctx, want[1], metav1.GetOptions{}); err != nil {
				t.Errorf("the standing CronJob: %v", err)
			}
			continue
		}
		if !slices.Contains(after[want[0]], want[1]) {
			t.Errorf("the standing %s %s is gone: %v", want[0], want[1], after)
		}
	}
	if q, err := cs.CoreV1().ResourceQuotas(drillNS).Get(ctx, manifests.DrillQuotaName, metav1.GetOptions{}); err != nil || len(q.Spec.Hard) == 0 {
		t.Errorf("the standing quota: %v", err)
	}
	ds := drillsIn(t, f.bucket, "community")
	if len(ds) != 1 || !ds[0].Passed() || ds[0].Where != "job "+drillNS+"/neo4jctl-drill-29412345" || ds[0].Databases[0].Restored != e.ID {
		t.Errorf("drill records: %+v", ds)
	}

	// Interrupted (Ctrl-C cancels the context) once the scratch
	// StatefulSet exists: exit 130, and the namespace is emptied to its
	// standing objects all the same.
	runCtx, interrupt := context.WithCancel(ctx)
	go func() {
		for runCtx.Err() == nil {
			if _, err := cs.AppsV1().StatefulSets(drillNS).Get(runCtx, "community", metav1.GetOptions{}); err == nil {
				interrupt()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	code, out, errOut = runCLIAsCtx(runCtx, asSA, "dr", "drill", "-f", f.file, "--in-namespace", "--secrets-namespace", f.ns, "--secrets-dir", t.TempDir(),
		"--neo4j-password-file", f.pwFile, "--step-timeout", "60s")
	interrupt()
	if code != ExitInterrupted || !strings.Contains(errOut, "scratch cluster deleted from "+drillNS) {
		t.Errorf("interrupted in-namespace drill: exit %d, want 130\n%s\n%s", code, out, errOut)
	}
	for res, names := range standing() {
		if !slices.Equal(names, before[res]) {
			t.Errorf("after the interrupted drill, %s left in %s: %v, before %v", res, drillNS, names, before[res])
		}
	}
	if ns, err := cs.CoreV1().Namespaces().Get(ctx, drillNS, metav1.GetOptions{}); err != nil || ns.DeletionTimestamp != nil {
		t.Errorf("the interrupted drill touched the drill namespace: %v", err)
	}

	// Refused, untouched: a namespace that is not the drill's, and one
	// that does not exist (never created).
	plain := f.ns + "-plain"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: plain}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), plain, metav1.DeleteOptions{}) })
	code, _, errOut = f.run(ctx, "dr", "drill", "-f", f.file, "--in-namespace", "--namespace", plain, "--neo4j-password-file", f.pwFile)
	if code != ExitError || !strings.Contains(errOut, "is not the drill namespace") {
		t.Errorf("in-namespace drill into a plain namespace: exit %d\n%s", code, errOut)
	}
	if ns, err := cs.CoreV1().Namespaces().Get(ctx, plain, metav1.GetOptions{}); err != nil || ns.DeletionTimestamp != nil {
		t.Errorf("the plain namespace was touched: %v", err)
	}
	missing := f.ns + "-missing"
	code, _, errOut = f.run(ctx, "dr", "drill", "-f", f.file, "--in-namespace", "--namespace", missing, "--neo4j-password-file", f.pwFile)
	if code != ExitError || !strings.Contains(errOut, "does not exist") {
		t.Errorf("in-namespace drill into a missing namespace: exit %d\n%s", code, errOut)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, missing, metav1.GetOptions{}); err == nil {
		t.Errorf("the in-namespace drill created namespace %s", missing)
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), missing, metav1.DeleteOptions{})
	}
}

func runCLIAsCtx(ctx context.Context, kubeconfig string, args ...string) (int, string, string) {
	io, _, out, errOut := iostreams.Test()
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &kubeconfig
	code := Run(ctx, &Factory{IO: io, KubeFlags: flags, Build: BuildInfo{Version: "test"}}, args)
	return code, out.String(), errOut.String()
}
