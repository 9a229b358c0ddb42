package cmd

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// requestLog records every request neo4jctl sends to the API server (the
// transport under client-go's), so a test can say which namespaces were
// touched at all.
type requestLog struct {
	mu   sync.Mutex
	reqs []string // "VERB path"
}

func (l *requestLog) wrap(c *rest.Config) *rest.Config {
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			l.mu.Lock()
			l.reqs = append(l.reqs, r.Method+" "+r.URL.Path)
			l.mu.Unlock()
			return rt.RoundTrip(r)
		})
	})
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// in returns the requests to namespace ns.
func (l *requestLog) in(ns string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.reqs {
		if strings.Contains(r, "/namespaces/"+ns+"/") || strings.HasSuffix(r, "/namespaces/"+ns) {
			out = append(out, r)
		}
	}
	return out
}

// runLogged runs neo4jctl against f's control plane, every request it
// sends recorded in log.
func (f *restoreFixture) runLogged(ctx context.Context, log *requestLog, args ...string) (int, string, string) {
	io, _, out, errOut := iostreams.Test()
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &f.env.Kubeconfig
	flags.WrapConfigFn = log.wrap
	code := Run(ctx, &Factory{IO: io, KubeFlags: flags, Build: BuildInfo{Version: "test"}}, args)
	return code, out.String(), errOut.String()
}

// versions maps the objects of ns a restore could write to a version
// that any write by a client changes: the StatefulSet's generation (its
// status is the controller's), the resourceVersion of the rest, which
// only clients write.
func versions(t *testing.T, ctx context.Context, f *restoreFixture, ns string) map[string]string {
	t.Helper()
	cs, err := f.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	sts, err := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	must(err)
	for _, o := range sts.Items {
		out["StatefulSet/"+o.Name] = fmt.Sprintf("generation %d, replicas %d", o.Generation, *o.Spec.Replicas)
	}
	cms, err := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	must(err)
	for _, o := range cms.Items {
		out["ConfigMap/"+o.Name] = o.ResourceVersion
	}
	secrets, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	must(err)
	for _, o := range secrets.Items {
		out["Secret/"+o.Name] = o.ResourceVersion
	}
	svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	must(err)
	for _, o := range svcs.Items {
		out["Service/"+o.Name] = o.ResourceVersion
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	must(err)
	for _, o := range jobs.Items {
		out["Job/"+o.Name] = o.ResourceVersion
	}
	leases, err := cs.CoordinationV1().Leases(ns).List(ctx, metav1.ListOptions{})
	must(err)
	for _, o := range leases.Items {
		out["Lease/"+o.Name] = o.ResourceVersion
	}
	return out
}

// TestRestoreIntoAnotherClusterNeverTouchesTheSource restores the
// backups of one Community cluster (source: community in its namespace,
// spec.backups on a file:// bucket) into another (target: community-dr in
// a second namespace, a cluster file with no spec.backups at all), as a
// DR restore into a new cluster file does, against the real control plane
// and the simulator. Real: the catalogue, the plan, the target's Lease,
// the scale to 0 and back of the target's StatefulSet, the load Job in
// the target's namespace (read back from the API server: it mounts the
// target's claim and runs the source's `backup download`), the cleanup
// and healthcheck over Bolt. Simulated: kwok completes the Job's Pod (no
// fetch or neo4j-admin load runs; both run for real in
// e2e/suites/restore_test.go).
//
// First refused: the target's namespace lacks the Secret the source's
// spec.backups names (the keyset), and nothing changes. With it, the
// restore runs; the plan names source and target. Proof the source is
// never written: every request neo4jctl sent to the API server was
// recorded, and none went to the source's namespace (not even a read),
// and every object there kept its resourceVersion.
func TestRestoreIntoAnotherClusterNeverTouchesTheSource(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	src, _ := communityClusterFixture(t, ctx, "community", true)
	dst, _ := communityClusterFixture(t, ctx, "community-dr", false)
	e := putDumpEntry(t, src.bucket, "community", "neo4j", time.Now().Add(-time.Hour))
	cs, err := dst.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	before := versions(t, ctx, src, src.ns)
	args := []string{"restore", "-f", dst.file, "--from-cluster", src.file, "--database", "neo4j", "--latest",
		"--neo4j-password-file", dst.pwFile, "--confirm-name", "neo4j"}

	// 0. A copy the source does not have: exit 1 before any request.
	log := &requestLog{}
	if code, out, errOut := dst.runLogged(ctx, log, append(args, "--from-copy", "eu-west-1")...); code != ExitError || !strings.Contains(errOut, "lists no spec.backups.copies; nothing was changed") {
		t.Errorf("--from-copy of a source without copies: exit %d, want 1 naming it\n%s\n%s", code, out, errOut)
	}

	// 1. The keyset Secret is not in the target's namespace: refused
	// before anything changes.
	code, out, errOut := dst.runLogged(ctx, log, args...)
	if code != ExitError || !strings.Contains(out, "Refused: Secret bk-keyset is not in namespace "+dst.ns) {
		t.Fatalf("restore without the keyset Secret in the target: exit %d, want 1 and a refusal naming it\n%s\n%s", code, out, errOut)
	}
	if sts, err := cs.AppsV1().StatefulSets(dst.ns).Get(ctx, "community-dr", metav1.GetOptions{}); err != nil || *sts.Spec.Replicas != 1 {
		t.Errorf("a refused restore changed the target's StatefulSet: %v", err)
	}

	// 2. With the Secret (as a DR runbook copies it), the restore runs.
	if _, err := cs.CoreV1().Secrets(dst.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"keyset.json": "{}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var job *batchv1.Job
	var conf map[string]string
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=" + kube.RestoreComponent}
		for watchCtx.Err() == nil {
			jobs, err := cs.BatchV1().Jobs(dst.ns).List(watchCtx, sel)
			cms, err2 := cs.CoreV1().ConfigMaps(dst.ns).List(watchCtx, sel)
			if err == nil && err2 == nil && len(jobs.Items) > 0 && len(cms.Items) > 0 {
				mu.Lock()
				job, conf = jobs.Items[0].DeepCopy(), cms.Items[0].Data
				mu.Unlock()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	code, out, errOut = dst.runLogged(ctx, log, args...)
	if code != ExitOK {
		t.Fatalf("restore into another cluster: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"Target: " + dst.ns + "/community-dr",
		"Source: " + src.ns + "/community (" + src.file + "): read only, from file://" + src.bucket,
		"The source cluster " + src.ns + "/community (" + src.file + ") is only read",
		e.ID, "into claim data-community-dr-0",
		"the data of neo4j in " + dst.ns + "/community-dr is replaced by " + src.ns + "/community's neo4j as of",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "Restore complete: neo4j restored to") {
		t.Errorf("no completion line:\n%s", errOut)
	}

	// The load Job ran in the target, reading the source's backups.
	mu.Lock()
	j, cm := job, conf
	mu.Unlock()
	if j == nil {
		t.Fatal("no load Job was ever seen in the target's namespace")
	}
	ps := j.Spec.Template.Spec
	if got := strings.Join(ps.InitContainers[0].Args, " "); got != "backup download "+e.ID+" -o /restore/work/neo4j.dump -f /restore/conf/cluster.yaml --secrets-dir /var/run/secrets/neo4jctl/backup" {
		t.Errorf("fetch args: %s", got)
	}
	claim := ""
	for _, v := range ps.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "data-community-dr-0" {
		t.Errorf("load Job mounts claim %q, want the target's data-community-dr-0", claim)
	}
	if f := cm["cluster.yaml"]; !strings.Contains(f, "name: community\n") || !strings.Contains(f, "file://"+src.bucket) {
		t.Errorf("the fetch containers' cluster file is not the source's (name community, its bucket):\n%s", f)
	}
	sts, err := cs.AppsV1().StatefulSets(dst.ns).Get(ctx, "community-dr", metav1.GetOptions{})
	if err != nil || *sts.Spec.Replicas != 1 || sts.Status.ReadyReplicas != 1 {
		t.Errorf("target after the restore: %v", err)
	}

	// The source: no request at all to its namespace, nothing changed.
	if reqs := log.in(src.ns); len(reqs) != 0 {
		t.Errorf("neo4jctl sent %d requests to the source's namespace %s, want none:\n%s", len(reqs), src.ns, strings.Join(reqs, "\n"))
	}
	if n := len(log.in(dst.ns)); n == 0 {
		t.Fatalf("no request recorded in the target's namespace: the request log does not work")
	} else {
		t.Logf("FIGURE: %d requests to the target's namespace, 0 to the source's", n)
	}
	after := versions(t, ctx, src, src.ns)
	var changed []string
	for k, v := range before {
		if after[k] != v {
			changed = append(changed, fmt.Sprintf("%s: %s → %q", k, v, after[k]))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			changed = append(changed, k+": created")
		}
	}
	sort.Strings(changed)
	if len(changed) > 0 {
		t.Errorf("objects of the source's namespace changed:\n%s", strings.Join(changed, "\n"))
	}
}
