package suites

import (
	"context"
	"crypto/tls"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// tlsCluster is a quickstart cluster with spec.tls (Bolt) at version: its
// kubernetes.io/tls Secret holds a certificate for the servers' Pod names
// (as cert-manager fills it, ca.crt included), and the simulator serves
// Bolt over TLS with that certificate, so neo4jctl verifies the servers
// against the Secret's CA as it does in a real cluster.
type tlsCluster struct {
	*cluster
	pki *neo4jsim.PKI
}

func newTLSCluster(t *testing.T, env *testenv.Env, version string) *tlsCluster {
	t.Helper()
	// The certificate names the namespace, known only once newCluster made
	// it: the simulator asks for the certificate per handshake.
	var cert atomic.Pointer[tls.Certificate]
	srv := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return cert.Load(), nil
	}}
	c := newCluster(t, env, clusterOpts{sim: neo4jsim.Config{TLS: srv}, mutate: func(doc map[string]any) {
		setPath(doc, version, "spec", "version")
		setPath(doc, map[string]any{"secretName": "quickstart-tls", "scopes": []any{"bolt"}}, "spec", "tls")
	}})
	pki, err := neo4jsim.NewTestPKI("*.quickstart-headless." + c.ns + ".svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	cert.Store(&pki.Server.Certificates[0])
	c.writeTLSSecret(map[string][]byte{corev1.TLSCertKey: pki.CertPEM, corev1.TLSPrivateKeyKey: pki.KeyPEM, "ca.crt": pki.CAPEM})
	return &tlsCluster{cluster: c, pki: pki}
}

// writeTLSSecret creates or replaces the cluster's TLS Secret.
func (c *cluster) writeTLSSecret(data map[string][]byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "quickstart-tls", Namespace: c.ns}, Type: corev1.SecretTypeTLS, Data: data}
	old, err := cs.CoreV1().Secrets(c.ns).Get(ctx, s.Name, metav1.GetOptions{})
	switch {
	case kube.IsNotFound(err):
		_, err = cs.CoreV1().Secrets(c.ns).Create(ctx, s, metav1.CreateOptions{})
	case err == nil:
		s.ResourceVersion = old.ResourceVersion
		_, err = cs.CoreV1().Secrets(c.ns).Update(ctx, s, metav1.UpdateOptions{})
	}
	if err != nil {
		c.t.Fatal(err)
	}
}

// renew replaces the Secret's certificate as a renewal does (same CA,
// same key names; the servers keep serving theirs until they reload or
// restart). It returns the fingerprints before and after.
func (c *tlsCluster) renew() (before, after string) {
	c.t.Helper()
	next, err := neo4jsim.NewTestPKI("*.quickstart-headless." + c.ns + ".svc.cluster.local")
	if err != nil {
		c.t.Fatal(err)
	}
	old := map[string][]byte{corev1.TLSCertKey: c.pki.CertPEM, "ca.crt": c.pki.CAPEM}
	data := map[string][]byte{corev1.TLSCertKey: next.CertPEM, corev1.TLSPrivateKeyKey: next.KeyPEM, "ca.crt": c.pki.CAPEM}
	c.writeTLSSecret(data)
	return manifests.TLSFingerprint(old), manifests.TLSFingerprint(data)
}

// liveStamp is the certificate stamp of the live StatefulSet.
func (c *cluster) liveStamp() manifests.TLSStampLive {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	sts, err := cs.AppsV1().StatefulSets(c.ns).Get(ctx, c.name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return manifests.TLSStampLive{Exists: true, Recorded: sts.Annotations[manifests.AnnotationTLSCertificate],
		Template: sts.Spec.Template.Annotations[manifests.AnnotationTLSCertificate]}
}

// requireInSync: drift reports nothing (exit 0).
func (c *cluster) requireInSync() {
	c.t.Helper()
	if res := c.neo4jctl(c.planeFlags("drift", "-f", c.file)...); res.code != 0 {
		c.t.Errorf("drift after apply: want exit 0 (in sync)\n%s", res)
	}
}

func stepsOfKind(p planDoc, kind string) []planStep {
	var out []planStep
	for _, s := range p.Steps {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	return out
}

// TestTLSRenewalReloads2025: a 2025.10 Enterprise cluster with TLS, its
// certificate replaced in the Secret: plan names the renewal and plans
// one reload-tls step per server and no roll; apply calls
// dbms.security.reloadTLS() once on each server, over a connection to
// that server (the procedure acts where it runs), and restarts no Pod;
// the plan after it is empty and drift is in sync.
func TestTLSRenewalReloads2025(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newTLSCluster(t, env, "2025.10.1")
	c.converge()
	c.requireInSync()
	if st := c.liveStamp(); st.Recorded == "" || st.Template != "" {
		t.Errorf("a new 2025.10 cluster's stamp %+v: want it recorded on the StatefulSet only", st)
	}
	uids := c.podUIDs()
	mark := len(c.sim.Log())

	before, after := c.renew()
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan after the renewal: want exit 2\n%s", res)
	}
	if rolls := stepsOfKind(p, "rolling-update"); len(rolls) > 0 {
		t.Errorf("2025.10 rolls for a renewal: %+v", rolls)
	}
	reloads := stepsOfKind(p, "reload-tls")
	if len(reloads) != 3 {
		t.Fatalf("%d reload-tls steps, want 3 (one per server)\n%s", len(reloads), res)
	}
	renewed := "certificate renewed: fingerprint " + before + " → " + after
	for _, s := range reloads {
		if !strings.HasPrefix(s.Reason, renewed) {
			t.Errorf("reload-tls reason %q, want it to start %q", s.Reason, renewed)
		}
	}
	if text := c.neo4jctl(c.planeFlags("plan", "-f", c.file)...); !strings.Contains(text.stdout, renewed+": reload TLS on each server") {
		t.Errorf("the human plan does not name the renewal (%q):\n%s", renewed, text)
	}

	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply the renewal:\n%s", res)
	}
	servers := map[string]int{}
	for _, st := range c.sim.Log()[mark:] {
		if st.Query == neo4j.ReloadTLSStatement && st.Outcome == "ok" {
			servers[st.ServerID]++
		}
	}
	if len(servers) != 3 {
		t.Errorf("dbms.security.reloadTLS() ran on %d servers (%v), want each of 3 once", len(servers), servers)
	}
	for id, n := range servers {
		if n != 1 {
			t.Errorf("server %s reloaded %d times, want once", id, n)
		}
	}
	if got := c.podUIDs(); !maps.Equal(got, uids) {
		t.Errorf("a reload restarted Pods: uids %v, were %v", got, uids)
	}
	if st := c.liveStamp(); st.Recorded != after || st.Template != "" {
		t.Errorf("stamp after apply %+v, want %s recorded and none on the Pod template", st, after)
	}
	c.requireEmptyPlan()
	c.requireInSync()
}

// TestTLSRenewalRolls526: on 5.26 the servers read certificates only at
// start: the renewed certificate's fingerprint goes on the Pod template,
// plan names the renewal as the reason of a gated roll, and apply restarts
// the Pods one at a time, highest ordinal first; afterwards the plan is
// empty and drift is in sync.
func TestTLSRenewalRolls526(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newTLSCluster(t, env, "5.26.0")
	c.converge()
	c.requireInSync()
	before, after := c.renew()
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan after the renewal: want exit 2\n%s", res)
	}
	if n := len(stepsOfKind(p, "reload-tls")); n > 0 {
		t.Errorf("5.26 plans %d reload-tls steps", n)
	}
	pods := []string{c.name + "-2", c.name + "-1", c.name + "-0"}
	roll, _ := rolloutSteps(t, p)
	want := "certificate renewed: fingerprint " + before + " → " + after + ", rolling restart one server at a time"
	if !strings.HasPrefix(roll.Reason, want) || !slices.Equal(roll.Rollout.Pods, pods) || !roll.Rollout.Servers {
		t.Errorf("rolling-update %q over %v (gated %v), want %q… over %v gated on the servers", roll.Reason, roll.Rollout.Pods, roll.Rollout.Servers, want, pods)
	}

	uids := c.podUIDs()
	w := c.watchRestarts()
	res = c.apply()
	_, maxAway := w.stop()
	restarts := c.podDeletes(w.audit) // the order from the audit log, kwok's deletions left out
	if res.code != 0 {
		t.Fatalf("apply the renewal:\n%s", res)
	}
	var order []string
	for _, r := range restarts {
		order = append(order, r.pod)
	}
	if !slices.Equal(order, pods) || maxAway != 1 {
		t.Errorf("restarts %v (at most %d away at once), want %v one at a time", order, maxAway, pods)
	}
	for pod, uid := range c.podUIDs() {
		if uids[pod] == uid {
			t.Errorf("%s was not restarted", pod)
		}
	}
	if st := c.liveStamp(); st.Recorded != after || st.Template != after {
		t.Errorf("stamp after apply %+v, want %s on both", st, after)
	}
	c.requireEmptyPlan()
	c.requireInSync()
}

// TestTLSStampFromUnstampedNoRoll: a 5.26 cluster created by a neo4jctl
// that did not stamp (its objects applied as that version did: the offline
// render under field manager neo4jctl) is upgraded to this one: plan
// records the certificate's fingerprint on the StatefulSet and rolls
// nothing; apply restarts no Pod; the plan after it is empty and drift is
// in sync. A renewal after that rolls (TestTLSRenewalRolls526).
func TestTLSStampFromUnstampedNoRoll(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newTLSCluster(t, env, "5.26.0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tg, err := pipeline.Load(c.file, "")
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range tg.Objects {
		if _, err := kc.Apply(ctx, o, true); err != nil {
			t.Fatalf("apply %s %s as the older neo4jctl did: %v", o.GetKind(), o.GetName(), err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for c.readyPods() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d Pods Ready after a minute, want 3", c.readyPods())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st := c.liveStamp(); st.Recorded != "" || st.Template != "" {
		t.Fatalf("the older neo4jctl's objects carry a stamp %+v", st)
	}
	uids := c.podUIDs()

	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan after the upgrade: want exit 2 (the baseline to record)\n%s", res)
	}
	if rolls := stepsOfKind(p, "rolling-update"); len(rolls) > 0 {
		t.Errorf("the first stamp of a running 5.26 cluster rolls it: %+v", rolls)
	}
	recorded := false
	for _, s := range p.Steps {
		if strings.Contains(s.Address, "/StatefulSet/") && strings.HasPrefix(s.Reason, "record the TLS certificate's fingerprint sha256:") {
			recorded = true
		}
	}
	if !recorded {
		t.Errorf("no StatefulSet step records the baseline:\n%s", res)
	}
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply:\n%s", res)
	}
	if got := c.podUIDs(); !maps.Equal(got, uids) {
		t.Errorf("recording the baseline restarted Pods: uids %v, were %v", got, uids)
	}
	if st := c.liveStamp(); st.Recorded == "" || st.Template != "" {
		t.Errorf("stamp after apply %+v, want it recorded on the StatefulSet and none on the Pod template", st)
	}
	c.requireEmptyPlan()
	c.requireInSync()
}

// TestTLSStampWatchKeepsRenewal: a watch in enforce mode, started before
// the certificate is renewed (it read the old one), sees another neo4jctl
// apply the renewal: the StatefulSet now records the new fingerprint. It
// reports no drift and enforces nothing: it never takes the stamp back.
func TestTLSStampWatchKeepsRenewal(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newTLSCluster(t, env, "2025.10.1")
	c.converge()
	w := c.startNeo4jctl("watch", "-f", c.file, "--mode=enforce", "--skip-neo4j", "-o", "json", "--metrics-addr", "", "--interval", "1h", "--debounce", "100ms")
	w.waitOutput(t, `"type":"in-sync"`)

	_, after := c.renew()
	mark := len(w.out.String())
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply the renewal:\n%s", res)
	}
	// The watch reconciles the StatefulSet's update (debounced), during
	// or after the apply; give it time to report whatever it finds.
	reconciledSTS := func(out string) bool {
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, `"type":"reconciled"`) && strings.Contains(line, `"k8s:apps/StatefulSet/`+c.ns+`/`+c.name+`"`) {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !reconciledSTS(w.out.String()[mark:]) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	out := w.out.String()[mark:]
	if !reconciledSTS(out) {
		t.Fatalf("the watch did not reconcile the StatefulSet the apply changed:\n%s", w.out.String())
	}
	for _, bad := range []string{`"type":"drift"`, `"type":"applied"`, `"type":"apply-failed"`} {
		if strings.Contains(out, bad) {
			t.Errorf("after another neo4jctl applied the renewal the watch emitted %s:\n%s", bad, out)
		}
	}
	if st := c.liveStamp(); st.Recorded != after {
		t.Errorf("stamp after the watch %+v, want %s recorded", st, after)
	}
}
