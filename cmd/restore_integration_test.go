package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
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
	return communityClusterFixture(t, ctx, "community", true)
}

// communityClusterFixture is the Community example named name, applied
// to a fresh namespace (with spec.backups on a file:// bucket when
// backups), and the simulator following its StatefulSet.
func communityClusterFixture(t *testing.T, ctx context.Context, name string, backups bool) (*restoreFixture, *harness.Sim) {
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
	spec := strings.Replace(string(b), "namespace: graphs", "namespace: "+f.ns, 1)
	spec = strings.Replace(spec, "\n  name: community\n", "\n  name: "+name+"\n", 1)
	if backups {
		spec += "  backups:\n    storage:\n      url: file://" + f.bucket + "\n    encryption:\n      keysetSecret:\n        name: bk-keyset\n"
	}
	f.file, f.pwFile = filepath.Join(dir, name+".yaml"), filepath.Join(dir, "pw")
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

// enterpriseRestoreFixture is the quickstart (3 servers, database movies)
// applied with spec.backups on a file:// bucket, the simulator following
// its Pods, and one full online backup of movies catalogued.
func enterpriseRestoreFixture(t *testing.T, ctx context.Context) (*driftFixture, string, catalog.Entry) {
	t.Helper()
	bucket := filepath.Join(t.TempDir(), "bucket")
	if err := os.Mkdir(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	f, _ := prepareQuickstart(t, ctx, driftPassword, func(s string) string {
		return s + "  backups:\n    storage:\n      url: file://" + bucket + "\n    encryption:\n      keysetSecret:\n        name: bk-keyset\n"
	})
	if _, err := f.cs.CoreV1().Secrets(f.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"keyset.json": "{}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sim, err := harness.StartSim(ctx, f.env, f.c, f.ns, driftPassword, neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	f.sim = sim
	if code, out, errOut := f.run(f.env.Kubeconfig, "apply", "-f", f.file, "--auto-approve", "--neo4j-password-file", f.pwFile, "--step-timeout", "90s"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	writeSimulatedEntry(t, bucket, "quickstart", "movies")
	es := readEntries(t, bucket)
	if len(es) != 1 {
		t.Fatalf("catalogue: %d entries, want 1", len(es))
	}
	return f, bucket, es[0]
}

func readEntries(t *testing.T, bucket string) []catalog.Entry {
	t.Helper()
	ctx := context.Background()
	b, err := blob.Open(ctx, "file://"+bucket, blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := catalog.New[blob.Object](b, func(o blob.Object) string { return o.Key }, catalog.Options{})
	es, err := c.List(ctx, catalog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// seedServedByPod is the simulator's seed reader on the control plane:
// the simulator is outside the cluster network, so an in-cluster seed
// URL http://<service>.<ns>.svc:8080/<file> counts as readable when the
// Service exists, the NetworkPolicy admits the cluster's servers to it,
// and the Pod it selects is Ready (kwok's pod-ready stage: no container
// really serves it; `restore serve` is tested in backup/restore).
func seedServedByPod(f *driftFixture, broken *bool) neo4jsim.SeedReader {
	return func(ctx context.Context, uri string) error {
		if *broken {
			return errors.New("connection refused")
		}
		host := strings.TrimPrefix(uri, "http://")
		name := host[:strings.Index(host, ".")]
		if _, err := f.cs.CoreV1().Services(f.ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return err
		}
		np, err := f.cs.NetworkingV1().NetworkPolicies(f.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 1 || np.Spec.Ingress[0].From[0].PodSelector == nil {
			return fmt.Errorf("NetworkPolicy %s does not restrict the seed to the cluster's Pods", name)
		}
		pod, err := f.cs.CoreV1().Pods(f.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !podReady(pod) {
			return fmt.Errorf("pod %s not ready", name)
		}
		return nil
	}
}

// TestRestoreEnterpriseSeedsTheCluster runs `neo4jctl restore` of an
// Enterprise cluster against the real control plane and the simulator.
// Real: the catalogue, the plan, the Lease, the seed Pod, Service and
// NetworkPolicy created and read back from the API server, the statements
// over Bolt, the wait for every allocation, the cleanup, healthcheck.
// Simulated: kwok makes the seed Pod Ready without running its
// containers, and the simulator reads the seed URL as readable when that
// Pod is Ready behind its Service and NetworkPolicy (seedServedByPod).
//
// Into a new name (--as) it creates the database with existingData 'use'
// and the seed URI; over movies it recreates it. A seed the servers cannot
// read fails when the database starts: CREATE succeeds, the restore waits,
// sees every allocation offline with "Unable to start database", and
// fails loudly naming the state.
func TestRestoreEnterpriseSeedsTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, _, e := enterpriseRestoreFixture(t, ctx)
	broken := false
	f.sim.SetSeedReader(seedServedByPod(f, &broken))
	base := []string{"restore", "-f", f.file, "--database", "movies", "--latest", "--neo4j-password-file", f.pwFile}
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=" + kube.RestoreComponent}
	leftovers := func() int {
		n := 0
		if l, _ := f.cs.CoreV1().Pods(f.ns).List(ctx, sel); l != nil {
			n += len(l.Items)
		}
		if l, _ := f.cs.CoreV1().Services(f.ns).List(ctx, sel); l != nil {
			n += len(l.Items)
		}
		if l, _ := f.cs.NetworkingV1().NetworkPolicies(f.ns).List(ctx, sel); l != nil {
			n += len(l.Items)
		}
		if l, _ := f.cs.CoreV1().ConfigMaps(f.ns).List(ctx, sel); l != nil {
			n += len(l.Items)
		}
		return n
	}

	// A new name.
	code, out, errOut := f.run(f.env.Kubeconfig, append(base, "--as", "movies-copy", "--auto-approve")...)
	if code != ExitOK {
		t.Fatalf("restore --as movies-copy: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{e.ID, "CREATE DATABASE movies-copy (TOPOLOGY 3 PRIMARIES 0 SECONDARIES) OPTIONS {existingData: 'use', seedURI: 'http://quickstart-restore-movies-copy-", "served as is", "movies itself is not touched", "Users and roles are not restored"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "movies-copy is online on 3 allocations") {
		t.Errorf("restore did not wait for every allocation:\n%s", errOut)
	}
	if n := leftovers(); n != 0 {
		t.Errorf("the restore left %d objects", n)
	}
	if allocs := f.sim.Allocations("movies-copy"); len(allocs) != 3 {
		t.Errorf("movies-copy allocations: %v, want 3", allocs)
	}

	// Over the existing database: recreate, confirmed by name.
	code, out, errOut = f.run(f.env.Kubeconfig, append(base, "--confirm-name", "movies")...)
	if code != ExitOK {
		t.Fatalf("restore over movies: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "CALL dbms.cluster.recreateDatabase('movies', {seedURI: 'http://quickstart-restore-movies-") {
		t.Errorf("plan of a replace lacks the recreate:\n%s", out)
	}

	// A seed the servers cannot read: CREATE succeeds, the database does
	// not start, the restore fails loudly.
	broken = true
	code, out, errOut = f.run(f.env.Kubeconfig, append(base, "--as", "movies-bad", "--auto-approve", "--online-timeout", "30s")...)
	if code != ExitError {
		t.Fatalf("restore from an unreadable seed: exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"the seed failed as movies-bad started (offline)", "Unable to start database", "State: database movies-bad may be seeded partly or not at all"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("failed seed: stderr lacks %q:\n%s", want, errOut)
		}
	}
	t.Logf("failed seed: %s", lastLine(errOut))

	// Served again, the restore converges. movies-bad exists now (offline,
	// created by the failed run), so the plan is a replace: its name is
	// asked for, and it is recreated from the seed.
	broken = false
	code, out, errOut = f.run(f.env.Kubeconfig, append(base, "--as", "movies-bad", "--confirm-name", "movies-bad")...)
	if code != ExitOK || !strings.Contains(out, "dbms.cluster.recreateDatabase('movies-bad'") || !strings.Contains(errOut, "movies-bad is online on 3 allocations") {
		t.Fatalf("rerun after the seed is served: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := leftovers(); n != 0 {
		t.Errorf("the restore left %d objects", n)
	}
}
