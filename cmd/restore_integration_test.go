package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// putDumpEntry catalogues a Community dump of db taken at created, as
// the agent does after its upload (the artifact bytes are not needed to
// plan or to run the Job on the control plane).
func putDumpEntry(t *testing.T, bucketDir, cluster, db string, created time.Time) catalog.Entry {
	t.Helper()
	ctx := context.Background()
	b, err := blob.Open(ctx, "file://"+bucketDir, blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	e, err := catalog.FromDump(cluster, db+".dump", created, catalog.NewToken())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("simulated dump"))
	e.KeyID = "1234"
	e.PlaintextSHA256, e.CiphertextSHA256 = hex.EncodeToString(sum[:]), hex.EncodeToString(sum[:])
	e.PlaintextSize, e.CiphertextSize = 14, 14
	c := catalog.New[blob.Object](b, func(o blob.Object) string { return o.Key }, catalog.Options{})
	out, err := c.Put(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type restoreFixture struct {
	t      *testing.T
	env    *testenv.Env
	ns     string
	file   string
	pwFile string
	bucket string
	c      *clusterfile.Cluster
}

// communityRestoreFixture is the Community example applied to a fresh
// namespace with spec.backups on a file:// bucket, and the simulator
// following its StatefulSet.
func communityRestoreFixture(t *testing.T, ctx context.Context) (*restoreFixture, *harness.Sim) {
	t.Helper()
	env := testenv.Shared(t)
	f := &restoreFixture{t: t, env: env, ns: testenv.Namespace(t, env)}
	b, err := os.ReadFile("../examples/community.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f.bucket = filepath.Join(dir, "bucket")
	if err := os.Mkdir(f.bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(string(b), "namespace: graphs", "namespace: "+f.ns, 1) +
		"  backups:\n    storage:\n      url: file://" + f.bucket + "\n    encryption:\n      keysetSecret:\n        name: bk-keyset\n"
	f.file, f.pwFile = filepath.Join(dir, "community.yaml"), filepath.Join(dir, "pw")
	if err := os.WriteFile(f.file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.pwFile, []byte("community-pw-1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f.c, err = clusterfile.LoadFile(f.file); err != nil {
		t.Fatal(err)
	}
	if err := harness.PrepareNamespace(ctx, env, f.c, f.ns, "community-pw-1"); err != nil {
		t.Fatal(err)
	}
	sim, err := harness.StartSim(ctx, env, f.c, f.ns, "community-pw-1", neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if code, out, errOut := f.run(ctx, "apply", "-f", f.file, "--auto-approve", "--neo4j-password-file", f.pwFile, "--step-timeout", "60s"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	return f, sim
}

func (f *restoreFixture) run(ctx context.Context, args ...string) (int, string, string) {
	io, _, out, errOut := iostreams.Test()
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &f.env.Kubeconfig
	code := Run(ctx, &Factory{IO: io, KubeFlags: flags, Build: BuildInfo{Version: "test"}}, args)
	return code, out.String(), errOut.String()
}

// TestRestoreCommunityRefusedThenInterruptedThenConverges runs `neo4jctl
// restore` of a Community standalone against the real control plane and
// the simulator. Real: the plan from the catalogue, the apply Lease, the
// scale to 0 through the scale subresource, the StatefulSet controller
// removing and recreating the Pod, the load Job (its spec read back from
// the API server: the claim, the load command, the restricted security
// context), the cleanup, and healthcheck over Bolt. Simulated: kwok runs no
// container, so its pod-complete stage completes the Job's Pod (the fetch
// and the real neo4j-admin load are run for real in
// e2e/suites/restore_test.go), and Neo4j is the simulator.
//
// Without a terminal and without --confirm-name the restore is refused and
// nothing changes; interrupted (context cancelled, as Ctrl-C does) once the
// server is stopped, it exits 130 naming the state; the same command run
// again converges: the server is back, Ready, and nothing of the restore
// is left.
func TestRestoreCommunityRefusedThenInterruptedThenConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	f, _ := communityRestoreFixture(t, ctx)
	e := putDumpEntry(t, f.bucket, "community", "neo4j", time.Now().Add(-time.Hour))
	cs, err := f.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	replicas := func() int32 {
		sts, err := cs.AppsV1().StatefulSets(f.ns).Get(ctx, "community", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return *sts.Spec.Replicas
	}
	restoreArgs := []string{"restore", "-f", f.file, "--database", "neo4j", "--latest", "--neo4j-password-file", f.pwFile}

	// 1. Refused without confirmation: the plan is printed, nothing changes.
	code, out, errOut := f.run(ctx, restoreArgs...)
	if code != ExitError || !strings.Contains(errOut, "--confirm-name neo4j") {
		t.Fatalf("restore without confirmation: exit %d, want 1 naming --confirm-name\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{e.ID, "replicas 1 → 0", "database load neo4j --overwrite-destination=true into claim data-community-0", "every write to neo4j after", "Users and roles are not restored", "Restore: replace neo4j from 1 artifact(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if r := replicas(); r != 1 {
		t.Errorf("a refused restore left replicas %d, want 1", r)
	}
	if jobs, _ := cs.BatchV1().Jobs(f.ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=" + kube.RestoreComponent}); len(jobs.Items) != 0 {
		t.Errorf("a refused restore created %d Jobs", len(jobs.Items))
	}
	// A wrong name is refused too.
	if code, _, errOut := f.run(ctx, append(restoreArgs, "--confirm-name", "movies")...); code != ExitError || !strings.Contains(errOut, `is not the name of the database replaced`) {
		t.Errorf("restore with a wrong --confirm-name: exit %d\n%s", code, errOut)
	}

	// Record the load Job as the API server holds it, while it exists.
	var mu sync.Mutex
	var seen *batchv1.Job
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		for watchCtx.Err() == nil {
			jobs, err := cs.BatchV1().Jobs(f.ns).List(watchCtx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=" + kube.RestoreComponent})
			if err == nil && len(jobs.Items) > 0 {
				mu.Lock()
				seen = jobs.Items[0].DeepCopy()
				mu.Unlock()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	// 2. Interrupted once the server is stopped.
	runCtx, interrupt := context.WithCancel(ctx)
	go func() {
		for runCtx.Err() == nil {
			if sts, err := cs.AppsV1().StatefulSets(f.ns).Get(runCtx, "community", metav1.GetOptions{}); err == nil && *sts.Spec.Replicas == 0 {
				interrupt()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	code, out, errOut = f.run(runCtx, append(restoreArgs, "--confirm-name", "neo4j")...)
	interrupt()
	if code != ExitInterrupted || !strings.Contains(errOut, "to continue (it converges)") {
		t.Fatalf("interrupted restore: exit %d, want %d saying how to continue\n%s\n%s", code, ExitInterrupted, out, errOut)
	}
	t.Logf("interrupted: %s", lastLine(errOut))
	if r := replicas(); r != 0 {
		t.Logf("after the interruption replicas are %d", r)
	}

	// 3. The same command converges.
	start := time.Now()
	code, out, errOut = f.run(ctx, append(restoreArgs, "--confirm-name", "neo4j")...)
	if code != ExitOK {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("rerun converged in %s", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{"Restore complete: neo4j restored to", "healthcheck:"} {
		if !strings.Contains(errOut+out, want) {
			t.Errorf("rerun output lacks %q:\n%s\n%s", want, out, errOut)
		}
	}
	if r := replicas(); r != 1 {
		t.Errorf("after the restore replicas are %d, want 1", r)
	}
	sts, err := cs.AppsV1().StatefulSets(f.ns).Get(ctx, "community", metav1.GetOptions{})
	if err != nil || sts.Status.ReadyReplicas != 1 {
		t.Errorf("after the restore: %v ready %d, want 1", err, sts.Status.ReadyReplicas)
	}
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=" + kube.RestoreComponent}
	if jobs, _ := cs.BatchV1().Jobs(f.ns).List(ctx, sel); len(jobs.Items) != 0 {
		t.Errorf("the restore left %d Jobs", len(jobs.Items))
	}
	if cms, _ := cs.CoreV1().ConfigMaps(f.ns).List(ctx, sel); len(cms.Items) != 0 {
		t.Errorf("the restore left %d ConfigMaps", len(cms.Items))
	}

	mu.Lock()
	j := seen
	mu.Unlock()
	if j == nil {
		t.Fatal("no load Job was ever seen")
	}
	ps := j.Spec.Template.Spec
	if len(ps.InitContainers) != 1 || len(ps.Containers) != 1 {
		t.Fatalf("load Job: %d init containers, %d containers, want 1 and 1", len(ps.InitContainers), len(ps.Containers))
	}
	fetch, load := ps.InitContainers[0], ps.Containers[0]
	if got := strings.Join(fetch.Args, " "); got != "backup download "+e.ID+" -o /restore/work/neo4j.dump -f /restore/conf/cluster.yaml --secrets-dir /var/run/secrets/neo4jctl/backup" {
		t.Errorf("fetch args: %s", got)
	}
	if got := strings.Join(load.Command, " "); got != "neo4j-admin database load neo4j --from-path=/restore/work --overwrite-destination=true --additional-config=/restore/conf/admin.conf" {
		t.Errorf("load command: %s", got)
	}
	claim := ""
	for _, v := range ps.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "data-community-0" {
		t.Errorf("load Job mounts claim %q, want data-community-0", claim)
	}
	for _, c := range append(ps.InitContainers, ps.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("container %s is not restricted: %+v", c.Name, sc)
		}
	}
	if ps.SecurityContext == nil || ps.SecurityContext.RunAsUser == nil || *ps.SecurityContext.RunAsUser != 7474 {
		t.Errorf("load Job Pod security context: %+v", ps.SecurityContext)
	}
}

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}
