package suites

import (
	"context"
	"encoding/base64"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestApplyConvergedIsReadOnly: applying a cluster that already matches
// its file writes nothing. The API server's audit log is the witness:
// every request the binary (User-Agent neo4jctl/…) made is a read, a
// dryRun=All request, a port-forward to reach Bolt, or its Lease — and the
// simulator received no administration statement.
func TestApplyConvergedIsReadOnly(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()

	mark := auditMark(t, env)
	c.sim.ResetLog()
	res := c.apply("--detailed-exitcode")
	if res.code != 0 {
		t.Fatalf("apply of a converged cluster: want exit 0 (nothing applied)\n%s", res)
	}
	var dry, lease, reads, forwards, reviews int
	for _, ev := range neo4jctlRequests(t, env, mark, c.ns) {
		switch {
		case resourceOf(ev) == "leases":
			lease++
		case isDryRun(ev):
			dry++
		case resourceOf(ev) == "selfsubjectrulesreviews":
			// A question to the authorizer (may these credentials
			// dry-run what is skipped?), stored nowhere. The audit log
			// holds its body (testenv's policy): without it, parallel
			// tests' reviews would be counted here.
			reviews++
			if got := ev.ReviewNamespace(); got != c.ns {
				t.Errorf("rules review for namespace %q in the audit log, want %q", got, c.ns)
			}
		case resourceOf(ev) == "pods/portforward":
			forwards++
		case !isWrite(ev):
			reads++
		default:
			t.Errorf("converged apply wrote: %s %s (%s)", ev.Verb, ev.RequestURI, ev.UserAgent)
		}
	}
	t.Logf("requests of the no-op apply: %d dryRun=All, %d rules reviews, %d Lease, %d reads, %d port-forwards", dry, reviews, lease, reads, forwards)
	if reviews > 1 {
		t.Errorf("%d rules reviews, want at most one per namespace", reviews)
	}
	// Dry runs are not a witness: a converged cluster's objects are
	// provably unchanged and need none (docs/observe.md).
	if lease == 0 || reads == 0 {
		t.Errorf("the audit log shows %d Lease requests and %d reads from neo4jctl: the witness is not seeing the binary (User-Agent neo4jctl/…?)", lease, reads)
	}
	if log := c.sim.Log(); len(log) != 0 {
		t.Errorf("converged apply sent statements to Neo4j: %+v", log)
	}
}

// TestApplyRetriesTransientNeo4jErrors: the simulator fails the next three
// statements with Neo.TransientError.General.DatabaseUnavailable; apply
// retries them, says so in its output, and succeeds.
func TestApplyRetriesTransientNeo4jErrors(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	c.edit(func(doc map[string]any) {
		dbs := getPath(doc, "spec", "databases").([]any)
		setPath(doc, append(dbs, map[string]any{"name": "extra", "topology": map[string]any{"primaries": 1}}), "spec", "databases")
	})
	c.sim.FailNext(3)
	res := c.apply()
	if res.code != 0 {
		t.Fatalf("apply through 3 transient failures:\n%s", res)
	}
	out := res.stdout + res.stderr
	if n := strings.Count(out, "Retrying"); n == 0 {
		t.Errorf("no retry visible in apply's output:\n%s", res)
	} else {
		t.Logf("%d retry lines", n)
	}
	if len(c.sim.Allocations("extra")) == 0 {
		t.Errorf("database extra was not created")
	}
	c.requireEmptyPlan()
}

// TestApplyWrongPassword: the Secret no longer holds Neo4j's password.
// apply fails once with one clear error and exit 1, and does not storm the
// server with connection attempts (counted by a proxy in front of each
// simulated server). The wrong password never appears in the output.
func TestApplyWrongPassword(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	conns := c.countConnections()

	wrong := "WRONG-" + randomHex(t, 8)
	c.setSecret(wrong)
	res := c.apply()
	if res.code != 1 {
		t.Errorf("apply with a wrong password: want exit 1\n%s", res)
	}
	out := res.stdout + res.stderr
	if n := strings.Count(out, "Error:"); n != 1 {
		t.Errorf("want exactly one error, got %d:\n%s", n, res)
	}
	low := strings.ToLower(out)
	if !strings.Contains(low, "auth") && !strings.Contains(low, "password") && !strings.Contains(low, "credential") {
		t.Errorf("the error does not say the credentials were refused:\n%s", res)
	}
	if strings.Contains(out, "Retrying") {
		t.Errorf("an authentication failure was retried:\n%s", res)
	}
	if strings.Contains(out, wrong) {
		t.Errorf("the password from the Secret appears in the output")
	}
	// One connection per attempt; the driver may try a router and a
	// server. More than a handful is a retry loop.
	n := conns.count()
	t.Logf("Bolt connections during the failed apply: %d", n)
	if n > 3 {
		t.Errorf("%d Bolt connections for one failed authentication: a retry storm", n)
	}
}

// TestApplyLockAndInterrupt: while one apply waits (a server that stays
// Deallocating), a second apply is refused by the Lease, naming its
// holder; Ctrl-C (SIGINT) then ends the first with exit 130 and releases
// the Lease, and a rerun converges.
func TestApplyLockAndInterrupt(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{mutate: func(doc map[string]any) { setPath(doc, 4, "spec", "servers") }})
	c.converge()
	s3, ok := c.serverOf(c.name + "-3")
	if !ok {
		t.Fatal("no server for Pod -3")
	}
	if err := c.sim.SetStuckDeallocating(s3.ID, true); err != nil {
		t.Fatal(err)
	}
	c.setServers(3)

	first := c.startNeo4jctl("apply", "-f", c.file, "--auto-approve")
	first.waitOutput(t, "Waiting until it hosts only system")

	holder := c.leaseHolder()
	if holder == "" {
		t.Fatalf("no Lease holder while apply runs:\n%s", first.out.String())
	}
	second := c.apply()
	if second.code != 1 {
		t.Errorf("second apply while the first holds the lock: want exit 1\n%s", second)
	}
	if !strings.Contains(second.stderr, holder) {
		t.Errorf("the refusal does not name the holder %q:\n%s", holder, second)
	}

	if err := first.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(); code != 130 {
		t.Errorf("apply interrupted by SIGINT: exit %d, want 130\n%s", code, first.out.String())
	}
	if h := c.leaseHolder(); h != "" {
		t.Errorf("Lease still held by %q after the interrupted apply", h)
	}

	// The interrupted apply left quickstart-3 Deallocating (DEALLOCATE is
	// sent once and cannot be taken back). Let it finish, and rerun at
	// once: apply must resume the sequence — wait, DROP, shrink — from
	// wherever it stopped, not refuse it.
	if err := c.sim.SetStuckDeallocating(s3.ID, false); err != nil {
		t.Fatal(err)
	}
	c.converge()
	if st := c.serverStates(); st[neo4jsim.StateEnabled] != 3 || len(st) != 1 {
		t.Errorf("after the rerun: servers %v, want 3 Enabled", st)
	}
}

// TestApplyAPIServerRestart restarts the API server while apply runs. It
// starts its own control plane: a restart would disturb every other
// package sharing one. apply either rides through (retries) or reports
// what failed; either way a rerun converges.
func TestApplyAPIServerRestart(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env, err := testenv.Start(ctx, testenv.Options{})
	if err != nil {
		t.Fatalf("start a private control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	// Slow Neo4j answers keep apply in its Neo4j steps long enough to
	// restart the API server under it.
	c := newCluster(t, env, clusterOpts{})
	c.sim.SetLatency(300 * time.Millisecond)

	run := c.startNeo4jctl("apply", "-f", c.file, "--auto-approve")
	run.waitOutput(t, "[s10]")
	// The harness creates a kwok PortForward per Pod once, without retry;
	// restart only when all three exist, or the test breaks its own rig.
	for i := 0; ; i++ {
		r := c.kubectl(nil, "get", "portforwards.kwok.x-k8s.io", "-o", "name")
		if strings.Count(r.stdout, "portforward") >= 3 {
			break
		}
		if i == 300 {
			t.Fatalf("the simulator's port-forwards did not appear:\n%s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := env.RestartAPIServer(ctx); err != nil {
		t.Fatalf("restart the API server: %v", err)
	}
	code := run.wait()
	out := run.out.String()
	t.Logf("apply across the restart: exit %d\n%s", code, out)
	switch code {
	case 0:
	case 1:
		if !strings.Contains(out, "Apply failed:") && !strings.Contains(out, "Error:") {
			t.Errorf("apply failed without saying what failed:\n%s", out)
		}
	default:
		t.Errorf("apply across an API server restart: exit %d, want 0 or 1", code)
	}
	c.sim.SetLatency(0)
	c.converge()
	if n := c.readyPods(); n != 3 {
		t.Errorf("%d Pods Ready, want 3", n)
	}
}

// setSecret writes a new password into the cluster's auth Secret.
func (c *cluster) setSecret(pw string) {
	c.t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	key := "password"
	if k, ok := getPath(c.spec, "spec", "auth", "secretRef", "key").(string); ok && k != "" {
		key = k
	}
	name := getPath(c.spec, "spec", "auth", "secretRef", "name").(string)
	patch := `{"data":{"` + key + `":"` + base64.StdEncoding.EncodeToString([]byte(pw)) + `"}}`
	if _, err := cs.CoreV1().Secrets(c.ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

// leaseHolder is the holder of the cluster's apply Lease, "" when free
// or absent.
func (c *cluster) leaseHolder() string {
	c.t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	l, err := cs.CoordinationV1().Leases(c.ns).Get(context.Background(), "neo4jctl-lock-"+c.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		c.t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}
