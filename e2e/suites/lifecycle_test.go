package suites

import (
	"context"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// TestRotatePasswordKilledBinary: the built binary's password rotation,
// SIGKILLed after each step it reports, leaves the Secret with a password
// that logs in, and a rerun ends with the Secret's key holding the admin
// password. No password ever appears in any output.
func TestRotatePasswordKilledBinary(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	secret := func() map[string][]byte {
		s, err := cs.CoreV1().Secrets(c.ns).Get(ctx, "neo4j-auth", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s.Data
	}
	logsIn := func(pw string) bool {
		if pw == "" {
			return false
		}
		cl, err := neo4j.Open(ctx, neo4j.Config{URI: c.sim.URI("neo4j"), Username: "neo4j", Password: pw, Resolver: neo4j.MapResolver(c.sim.AddressMap())})
		if err != nil {
			if !neo4j.IsAuth(err) {
				t.Fatalf("log in: %v", err)
			}
			return false
		}
		_ = cl.Close(ctx)
		return true
	}
	var outputs strings.Builder
	seen := map[string]bool{c.password: true}
	// Every statement takes a while, so the kill lands inside the rotation.
	c.sim.SetLatency(300 * time.Millisecond)
	defer c.sim.SetLatency(0)
	for i, after := range []string{"logged in", "recorded the next password in the Secret", "ALTER CURRENT USER SET PASSWORD done", "the new password logs in"} {
		p := c.startNeo4jctl("rotate", "password", "-f", c.file)
		p.waitOutput(t, after)
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		code := p.wait()
		t.Logf("killed after %q: exit %d", after, code)
		outputs.WriteString(p.out.String())
		data := secret()
		for _, v := range data {
			seen[string(v)] = true
		}
		if !logsIn(string(data["password"])) && !logsIn(string(data["next-password"])) {
			t.Fatalf("killed after %q: no password in the Secret logs in (locked out)", after)
		}
		// The killed run still holds the Lease: the first rerun waits for
		// it to lapse; for the others an operator removes it.
		lockFlag := "--lock-timeout=45s"
		if i > 0 {
			if err := cs.CoordinationV1().Leases(c.ns).Delete(ctx, kube.LockName(c.name), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Fatal(err)
			}
		}
		res := c.neo4jctl("rotate", "password", "-f", c.file, lockFlag)
		outputs.WriteString(res.stdout + res.stderr)
		if res.code != 0 {
			t.Fatalf("rerun after a kill after %q:\n%s", after, res)
		}
		data = secret()
		for _, v := range data {
			seen[string(v)] = true
		}
		if _, ok := data["next-password"]; ok || !logsIn(string(data["password"])) {
			t.Fatalf("after the rerun (kill after %q): next-password left (%v) or the Secret's password does not log in", after, ok)
		}
	}
	if logsIn(c.password) {
		t.Error("the first password still logs in")
	}
	for pw := range seen {
		if strings.Contains(outputs.String(), pw) {
			t.Error("a password appeared in the binary's output")
		}
	}
}

// TestDestroyBinary: the built binary's destroy is refused without the
// cluster's name, deletes exactly the inventory with it and keeps the
// claims, keeps an object that only carries the cluster's labels, and
// deletes the claims with --delete-data and the name.
func TestDestroyBinary(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{noSim: true})
	if res := c.apply("--wait=false"); res.code != 0 {
		t.Fatalf("apply:\n%s", res)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	claims := func() []string {
		list, err := cs.CoreV1().PersistentVolumeClaims(c.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil {
				out = append(out, p.Name)
			}
		}
		sort.Strings(out)
		return out
	}
	deadline := time.Now().Add(time.Minute)
	for len(claims()) < 6 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	before := claims()
	oob := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "out-of-band", Namespace: c.ns,
		Labels: map[string]string{kube.ClusterLabel: c.name, kube.ApplySetPartOfLabel: kube.InventoryRef{Namespace: c.ns, Cluster: c.name}.ID()}}}
	if _, err := cs.CoreV1().ConfigMaps(c.ns).Create(ctx, oob, metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
		t.Fatal(err)
	}

	if res := c.neo4jctl("destroy", "-f", c.file); res.code != 1 || !strings.Contains(res.stderr, "--confirm-name") {
		t.Errorf("destroy without the name: want exit 1 naming --confirm-name\n%s", res)
	}
	if _, err := cs.AppsV1().StatefulSets(c.ns).Get(ctx, c.name, metav1.GetOptions{}); err != nil {
		t.Fatalf("a refused destroy deleted the StatefulSet: %v", err)
	}
	res := c.neo4jctl("destroy", "-f", c.file, "--confirm-name", c.name)
	if res.code != 0 {
		t.Fatalf("destroy --confirm-name:\n%s", res)
	}
	if _, err := cs.AppsV1().StatefulSets(c.ns).Get(ctx, c.name, metav1.GetOptions{}); err == nil {
		t.Error("the StatefulSet survived destroy")
	}
	if _, err := cs.CoreV1().ConfigMaps(c.ns).Get(ctx, "neo4jctl-"+c.name+"-applyset", metav1.GetOptions{}); err == nil {
		t.Error("the inventory survived destroy")
	}
	if _, err := cs.CoreV1().ConfigMaps(c.ns).Get(ctx, "out-of-band", metav1.GetOptions{}); err != nil {
		t.Errorf("destroy deleted an object neo4jctl did not apply: %v", err)
	}
	if got := claims(); strings.Join(got, ",") != strings.Join(before, ",") || len(got) == 0 {
		t.Errorf("claims after destroy: %v, want %v kept", got, before)
	}
	if res := c.neo4jctl("destroy", "-f", c.file, "--delete-data", "--auto-approve"); res.code != 1 {
		t.Errorf("--delete-data --auto-approve: want a refusal\n%s", res)
	}
	if res := c.neo4jctl("destroy", "-f", c.file, "--delete-data", "--confirm-name", c.name); res.code != 0 {
		t.Fatalf("destroy --delete-data:\n%s", res)
	}
	deadline = time.Now().Add(30 * time.Second)
	for len(claims()) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if got := claims(); len(got) != 0 {
		t.Errorf("claims after --delete-data: %v", got)
	}
}
