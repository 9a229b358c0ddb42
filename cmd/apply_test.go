package cmd

import (
	"context"
	"fmt"
	"github.com/spf13/cobra"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestApplyFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantErr  string
		wantOpts func(*ApplyOptions) bool
	}{
		{name: "no file", args: []string{"apply"}, wantErr: "-f CLUSTER_FILE is required"},
		{name: "plan file without cluster file", args: []string{"apply", "plan.json"}, wantErr: "needs the cluster file it was made from"},
		{name: "two files", args: []string{"apply", "-f", "a.yaml", "-f", "b.yaml"}, wantErr: "a fleet (several cluster files or a directory) needs --auto-approve"},
		{name: "fleet with a saved plan", args: []string{"apply", "p.json", "-f", "a.yaml", "-f", "b.yaml", "--auto-approve"}, wantErr: "a saved plan file is for one cluster"},
		{name: "fleet with its saved plans", args: []string{"apply", os.TempDir(), "-f", "a.yaml", "-f", "b.yaml"}, wantOpts: func(o *ApplyOptions) bool {
			return o.File == "" && o.PlanFile == os.TempDir() && !o.AutoApprove
		}},
		{name: "fleet", args: []string{"apply", "-f", "a.yaml", "-f", "b.yaml", "--auto-approve", "--parallel", "3"}, wantOpts: func(o *ApplyOptions) bool {
			return o.File == "" && len(o.Files) == 2 && o.Parallel == 3
		}},
		{name: "bad output", args: []string{"apply", "-f", "a.yaml", "-o", "markdown"}, wantErr: "-o: unknown output format"},
		{name: "target with a saved plan", args: []string{"apply", "p.json", "-f", "a.yaml", "--target", "k8s:*"}, wantErr: "a saved plan already has its targets"},
		{name: "defaults", args: []string{"apply", "-f", "a.yaml"}, wantOpts: func(o *ApplyOptions) bool {
			return o.Lock && !o.AutoApprove && o.LockTimeout == 0 && o.StepTimeout == 10*time.Minute && o.Output == "human"
		}},
		{name: "saved plan", args: []string{"apply", "p.json", "-f", "a.yaml", "--lock=false", "--lock-timeout", "1m", "-o", "json", "--detailed-exitcode", "--force-conflicts"},
			wantOpts: func(o *ApplyOptions) bool {
				return o.PlanFile == "p.json" && o.File == "a.yaml" && !o.Lock && o.LockTimeout == time.Minute && o.Output == "json" && o.Detailed && o.Force
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *ApplyOptions
			err := runWith(t, "apply", func(f *Factory) *cobra.Command {
				return NewCmdApply(f, func(o *ApplyOptions) error { got = o; return nil })
			}, tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantOpts(got) {
				t.Errorf("options not as expected: %+v", got)
			}
		})
	}
}

// quickstart writes the quickstart cluster file for namespace ns.
func quickstart(t *testing.T, ns string) (file, pw string) {
	t.Helper()
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file = filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "namespace: neo4j", "namespace: "+ns, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	pw = filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("integration-s3cret-pw"), 0o600); err != nil {
		t.Fatal(err)
	}
	createAuthSecret(t, ns, "integration-s3cret-pw") // pre-flight refuses a plan without it
	return file, pw
}

func runApplyCLI(t *testing.T, env *testenv.Env, args ...string) (int, string, string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &env.Kubeconfig
	code := Run(context.Background(), &Factory{IO: io, KubeFlags: flags}, args)
	return code, out.String(), errOut.String()
}

// TestApplyLockedIsRefused: a second apply while another holds the
// cluster's Lease is refused naming the holder and since when, and writes
// nothing.
func TestApplyLockedIsRefused(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	file, pw := quickstart(t, ns)
	kc, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lock, err := kc.AcquireLock(ctx, ns, "quickstart", "alice@ci-runner pid 4242", 30*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release(ctx)

	code, _, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--neo4j-password-file", pw)
	if code != ExitError {
		t.Errorf("exit code: got %d, want %d", code, ExitError)
	}
	if !strings.Contains(stderr, `locked by "alice@ci-runner pid 4242" since `) {
		t.Errorf("stderr does not name the holder and since when:\n%s", stderr)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "quickstart", metav1.GetOptions{}); !kube.IsNotFound(err) {
		t.Errorf("a refused apply created the StatefulSet (err %v)", err)
	}
}

// TestApplyWithoutTerminalNeedsAutoApprove: with stdin not a terminal apply
// shows the plan and refuses, writes nothing and leaves no Lease behind.
func TestApplyWithoutTerminalNeedsAutoApprove(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	file, pw := quickstart(t, ns)
	code, stdout, stderr := runApplyCLI(t, env, "apply", "-f", file, "--neo4j-password-file", pw)
	if code != ExitError {
		t.Errorf("exit code: got %d, want %d", code, ExitError)
	}
	if !strings.Contains(stdout, "Plan: ") || !strings.Contains(stderr, "pass --auto-approve") {
		t.Errorf("want the plan on stdout and the refusal on stderr:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "quickstart", metav1.GetOptions{}); !kube.IsNotFound(err) {
		t.Errorf("apply without confirmation created the StatefulSet (err %v)", err)
	}
	if _, err := cs.CoordinationV1().Leases(ns).Get(ctx, kube.LockName("quickstart"), metav1.GetOptions{}); !kube.IsNotFound(err) {
		t.Errorf("the Lease was not released (err %v)", err)
	}
}

// TestApplyDryRunsPerObject counts, in the API server's audit log, the
// dry runs an apply sends per object. With --auto-approve the plan's dry
// runs were made moments before, under the lock, so the preflight does
// not repeat them: one, in the plan. A saved plan is dry-run again before
// the first write: its fresh plan and the preflight, two. The verifying
// plan reads every object again but dry-runs only those the server
// changed after apply wrote them: the PodDisruptionBudget and the
// StatefulSet, whose controllers write their status, may have one more.
func TestApplyDryRunsPerObject(t *testing.T) {
	env := testenv.Shared(t)
	dryRuns := func(ns string, since time.Time) map[string]int {
		t.Helper()
		time.Sleep(300 * time.Millisecond) // the last request's audit event
		evs, err := env.AuditEvents()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, ev := range evs {
			if !strings.HasPrefix(ev.UserAgent, "neo4jctl/") || ev.Stage != "ResponseComplete" || ev.StageTimestamp.Before(since) ||
				ev.ObjectRef == nil || ev.ObjectRef.Namespace != ns || !strings.Contains(ev.RequestURI, "dryRun=All") {
				continue
			}
			out[ev.ObjectRef.Resource+"/"+ev.ObjectRef.Name]++
		}
		return out
	}
	each := func(t *testing.T, got map[string]int, want int) {
		t.Helper()
		if len(got) != 10 {
			t.Fatalf("dry runs of %d objects in the audit log, want the quickstart's 10 (two ConfigMaps: restart and dynamic settings): %v", len(got), got)
		}
		for obj, n := range got {
			// Not even the StatefulSet and the PDB, whose controllers write
			// their status between the apply and the verifying plan: a
			// status-only move needs no dry run.
			if n != want {
				t.Errorf("%s: %d dry runs, want %d (all: %v)", obj, n, want, got)
			}
		}
	}

	t.Run("auto-approve", func(t *testing.T) {
		ns := testenv.Namespace(t, env)
		file, _ := quickstart(t, ns)
		since := time.Now()
		if code, _, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, stderr)
		}
		each(t, dryRuns(ns, since), 1)
	})
	t.Run("saved plan", func(t *testing.T) {
		ns := testenv.Namespace(t, env)
		file, _ := quickstart(t, ns)
		saved := filepath.Join(t.TempDir(), "plan.json")
		if code, _, stderr := runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "--out", saved); code != 0 && code != ExitChanges {
			t.Fatalf("plan --out: exit %d\n%s", code, stderr)
		}
		since := time.Now()
		if code, _, stderr := runApplyCLI(t, env, "apply", saved, "-f", file, "--skip-neo4j", "--wait=false"); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s", saved, code, stderr)
		}
		each(t, dryRuns(ns, since), 2)
	})
}

// TestFleetApplyVerifiesFromFleetLists applies three clusters with one
// work slot, so two of them wait for the others before verifying (a wait
// that held its slot would deadlock here), and a fourth whose plan fails
// (its namespace does not exist): the others must not wait for it. Every
// cluster that applied is verified, its Lease released, and the
// verification reads the fleet with cluster-wide LISTs instead of a LIST
// per kind and namespace.
func TestFleetApplyVerifiesFromFleetLists(t *testing.T) {
	env := testenv.Shared(t)
	dir := t.TempDir()
	var nss []string
	for i := range 3 {
		ns := testenv.Namespace(t, env) + fmt.Sprint(i)
		nss = append(nss, ns)
		file, _ := quickstart(t, ns)
		b, _ := os.ReadFile(file)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%d.yaml", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ns := range nss {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
		createAuthSecret(t, ns, "integration-s3cret-pw")
	}
	missing, _ := quickstart(t, nss[0]+"-missing")
	b, _ := os.ReadFile(missing)
	if err := os.WriteFile(filepath.Join(dir, "c9.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}

	since := time.Now()
	code, stdout, stderr := runApplyCLI(t, env, "apply", "-f", dir, "--auto-approve", "--skip-neo4j", "--wait=false", "--parallel", "1")
	if code != ExitError {
		t.Fatalf("fleet apply with one failing cluster: exit %d, want %d\n%s", code, ExitError, stderr)
	}
	if !strings.Contains(stderr, "1 of 4 clusters failed to apply") {
		t.Errorf("stderr does not name the one failed cluster:\n%s", stderr)
	}
	for _, ns := range nss {
		for _, want := range []string{"[" + ns + "/quickstart] Verifying", "[" + ns + "/quickstart] Apply complete"} {
			if !strings.Contains(stdout+stderr, want) {
				t.Errorf("output lacks %q:\n%s%s", want, stdout, stderr)
			}
		}
		if _, err := cs.CoordinationV1().Leases(ns).Get(ctx, kube.LockName("quickstart"), metav1.GetOptions{}); !kube.IsNotFound(err) {
			t.Errorf("%s: the Lease was not released (err %v)", ns, err)
		}
	}

	time.Sleep(300 * time.Millisecond) // the last request's audit event
	evs, err := env.AuditEvents()
	if err != nil {
		t.Fatal(err)
	}
	inFleet := func(ns string) bool { return slices.Contains(nss, ns) }
	var clusterLists, namespacedLists int
	for _, ev := range evs {
		if !strings.HasPrefix(ev.UserAgent, "neo4jctl/") || ev.Stage != "ResponseComplete" || ev.StageTimestamp.Before(since) ||
			ev.ObjectRef == nil || ev.Verb != "list" {
			continue
		}
		switch {
		case ev.ObjectRef.Namespace == "":
			clusterLists++
		// The first plans, one per cluster, list its Pods and its claims
		// in its namespace; the verification reads the fleet's lists.
		case inFleet(ev.ObjectRef.Namespace) && ev.ObjectRef.Resource != "pods" && ev.ObjectRef.Resource != "persistentvolumeclaims":
			namespacedLists++
		}
	}
	if clusterLists == 0 || namespacedLists != 0 {
		t.Errorf("the fleet's verification made %d cluster-wide and %d per-namespace LISTs; want some and none", clusterLists, namespacedLists)
	}
}
