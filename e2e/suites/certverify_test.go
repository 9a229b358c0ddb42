package suites

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/neo4jctl/neo4jctl/apply"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// certManagerCluster is a new 5.26 quickstart cluster with spec.tls from
// a cert-manager Issuer (the harness creates the Issuer; no cert-manager
// runs in the test control plane). The test plays cert-manager: issuer
// watches for the Certificate the first apply creates and, as soon as it
// appears, writes the Secret the Certificate names (certificate, key and
// CA for the servers' Pod names; the simulator serves Bolt over TLS with
// that certificate). The Certificate is applied before the StatefulSet,
// so the Secret exists before any server does, but only after the
// apply's plan, which therefore read no certificate: exactly what happens
// on the first apply of a cluster with a real cert-manager.
type certManagerCluster struct {
	*cluster
	pki    *neo4jsim.PKI
	issued chan issuedSecret
}

// issuedSecret is what the playing issuer did when the Certificate
// appeared.
type issuedSecret struct {
	fingerprint string
	// readyReplicas of the StatefulSet right after the Secret was written
	// (-1 when it did not exist yet): the Secret came before the servers.
	readyReplicas int32
	err           error
}

func newCertManagerCluster(t *testing.T, env *testenv.Env) *certManagerCluster {
	t.Helper()
	var cert atomic.Pointer[tls.Certificate]
	srv := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return cert.Load(), nil
	}}
	c := newCluster(t, env, clusterOpts{sim: neo4jsim.Config{TLS: srv}, mutate: func(doc map[string]any) {
		setPath(doc, "5.26.0", "spec", "version")
		setPath(doc, map[string]any{
			"certManager": map[string]any{"issuerRef": map[string]any{"name": "selfsigned", "kind": "Issuer"}},
			"scopes":      []any{"bolt"},
		}, "spec", "tls")
	}})
	pki, err := neo4jsim.NewTestPKI("*.quickstart-headless." + c.ns + ".svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	cert.Store(&pki.Server.Certificates[0])
	return &certManagerCluster{cluster: c, pki: pki, issued: make(chan issuedSecret, 1)}
}

// issueOnCertificate starts the playing issuer: a watch of the namespace's
// cert-manager Certificates that writes the Secret once the cluster's
// Certificate is added. It returns a function that stops the watch.
func (c *certManagerCluster) issueOnCertificate(extra func(ctx context.Context) error) func() {
	c.t.Helper()
	dyn, err := dynamic.NewForConfig(c.env.RESTConfig())
	if err != nil {
		c.t.Fatal(err)
	}
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	certs := dyn.Resource(schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}).Namespace(c.ns)
	w, err := certs.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + c.name + "-tls"})
	if err != nil {
		cancel()
		c.t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer w.Stop()
		for ev := range w.ResultChan() {
			if ev.Type != watch.Added {
				continue
			}
			data := map[string][]byte{corev1.TLSCertKey: c.pki.CertPEM, corev1.TLSPrivateKeyKey: c.pki.KeyPEM, "ca.crt": c.pki.CAPEM}
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: c.name + "-tls", Namespace: c.ns}, Type: corev1.SecretTypeTLS, Data: data}
			got := issuedSecret{fingerprint: manifests.TLSFingerprint(data), readyReplicas: -1}
			if _, got.err = cs.CoreV1().Secrets(c.ns).Create(ctx, s, metav1.CreateOptions{}); got.err == nil && extra != nil {
				got.err = extra(ctx)
			}
			if sts, err := cs.AppsV1().StatefulSets(c.ns).Get(ctx, c.name, metav1.GetOptions{}); err == nil {
				got.readyReplicas = sts.Status.ReadyReplicas
			}
			c.issued <- got
			return
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// waitIssued returns what the playing issuer did; the apply has ended, so
// it has happened or never will.
func (c *certManagerCluster) waitIssued() issuedSecret {
	c.t.Helper()
	select {
	case got := <-c.issued:
		if got.err != nil {
			c.t.Fatalf("issuing the Secret: %v", got.err)
		}
		return got
	case <-time.After(5 * time.Second):
		c.t.Fatal("the apply created no Certificate: the issuer never wrote the Secret")
	}
	return issuedSecret{}
}

// podWatch records every uid each Pod of the cluster had, and deletions.
type podWatch struct {
	mu      sync.Mutex
	uids    map[string]map[string]bool
	deleted []string
	stop    func()
}

func (c *cluster) watchPodUIDs() *podWatch {
	c.t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wi, err := cs.CoreV1().Pods(c.ns).Watch(ctx, metav1.ListOptions{LabelSelector: manifests.LabelCluster + "=" + c.name})
	if err != nil {
		cancel()
		c.t.Fatal(err)
	}
	pw := &podWatch{uids: map[string]map[string]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer wi.Stop()
		for ev := range wi.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			pw.mu.Lock()
			if pw.uids[p.Name] == nil {
				pw.uids[p.Name] = map[string]bool{}
			}
			pw.uids[p.Name][string(p.UID)] = true
			if ev.Type == watch.Deleted || p.DeletionTimestamp != nil {
				pw.deleted = append(pw.deleted, p.Name)
			}
			pw.mu.Unlock()
		}
	}()
	pw.stop = func() { cancel(); <-done }
	return pw
}

// restarted lists the Pods deleted or replaced (more than one uid) while
// the watch ran, and how many Pods it saw.
func (pw *podWatch) restarted() (restarted []string, seen int) {
	pw.stop()
	pw.mu.Lock()
	defer pw.mu.Unlock()
	for name, uids := range pw.uids {
		if len(uids) > 1 {
			restarted = append(restarted, name)
		}
	}
	return append(restarted, pw.deleted...), len(pw.uids)
}

// applyEvents decodes apply -o json's NDJSON stream.
func applyEvents(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("apply -o json line %q is not JSON: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}

// TestCertManagerFirstApplyRecordsBaseline: the first apply of a 5.26
// cluster whose certificate cert-manager issues during that apply (after
// its plan, before its verifying plan) exits 0: its verifying plan finds
// only the certificate's baseline stamp on the StatefulSet, apply records
// it (said in the NDJSON stream of apply -o json: the message, the step's
// events, the summary's verified) and verifies again. No Pod restarts,
// the StatefulSet records the issued certificate's fingerprint and none
// is on the Pod template, the plan after it is empty and drift is in
// sync.
func TestCertManagerFirstApplyRecordsBaseline(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCertManagerCluster(t, env)
	stopIssuer := c.issueOnCertificate(nil)
	defer stopIssuer()
	pods := c.watchPodUIDs()

	res := c.apply("-o", "json")
	issued := c.waitIssued()
	restarted, seen := pods.restarted()
	if res.code != 0 {
		t.Fatalf("the first apply of a cert-manager cluster: want exit 0\n%s", res)
	}
	if issued.readyReplicas >= 3 {
		t.Fatalf("the Secret was issued after the StatefulSet was ready (%d ready): the test did not issue it before the apply's verification", issued.readyReplicas)
	}
	var message, started, completed bool
	var summary map[string]any
	for _, ev := range applyEvents(t, res.stdout) {
		msg, _ := ev["@message"].(string)
		hook, _ := ev["hook"].(map[string]any)
		switch ev["type"] {
		case "message":
			message = message || strings.Contains(strings.ToLower(msg), strings.ToLower(apply.TLSBaselineMessage)) && strings.Contains(msg, issued.fingerprint)
		case "apply_start":
			started = started || hook["id"] == "verify-s01" && hook["address"] == "k8s:apps/StatefulSet/"+c.ns+"/"+c.name
		case "apply_complete":
			completed = completed || hook["id"] == "verify-s01" && hook["status"] == "applied"
		case "change_summary":
			summary, _ = ev["changes"].(map[string]any)
		}
	}
	if !message || !started || !completed {
		t.Errorf("apply -o json: message %q with the fingerprint %v, verify-s01 started %v and applied %v; want all\n%s", apply.TLSBaselineMessage, message, started, completed, res.stdout)
	}
	if summary == nil || summary["verified"] != true {
		t.Errorf("change_summary %v, want verified true", summary)
	}
	if seen != 3 || len(restarted) > 0 {
		t.Errorf("Pods seen %d, restarted or deleted %v; want 3, none restarted", seen, restarted)
	}
	if st := c.liveStamp(); st.Recorded != issued.fingerprint || st.Template != "" {
		t.Errorf("stamp after the first apply %+v, want %s recorded and none on the Pod template", st, issued.fingerprint)
	}
	uids := c.podUIDs()
	c.requireEmptyPlan()
	c.requireInSync()
	for pod, uid := range c.podUIDs() {
		if uids[pod] != uid {
			t.Errorf("%s was restarted after the apply", pod)
		}
	}
}

// TestCertManagerVerifyWithOtherChangeFails: the same first apply, but
// while the certificate is issued someone also edits the cluster's
// ConfigMap out of band: the verifying plan holds the baseline and that
// change, so apply fails as before (naming the fresh plan) and records
// nothing: the StatefulSet carries no stamp.
func TestCertManagerVerifyWithOtherChangeFails(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCertManagerCluster(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	edited := ""
	stopIssuer := c.issueOnCertificate(func(ctx context.Context) error {
		// The ConfigMaps are applied before the Certificate.
		cms, err := cs.CoreV1().ConfigMaps(c.ns).List(ctx, metav1.ListOptions{LabelSelector: manifests.LabelCluster + "=" + c.name})
		if err != nil {
			return err
		}
		for _, cm := range cms.Items {
			for k, v := range cm.Data {
				cm.Data[k] = v + "\n# edited out of band\n"
				edited = "k8s:core/ConfigMap/" + c.ns + "/" + cm.Name
				_, err := cs.CoreV1().ConfigMaps(c.ns).Update(ctx, &cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
				return err
			}
		}
		return nil
	})
	defer stopIssuer()

	res := c.apply()
	issued := c.waitIssued()
	if edited == "" {
		t.Fatal("the cluster has no ConfigMap with data to edit")
	}
	if res.code == 0 {
		t.Fatalf("apply with an out-of-band change besides the baseline: want a failure\n%s", res)
	}
	if !strings.Contains(res.stderr+res.stdout, "a fresh plan is not empty") || !strings.Contains(res.stderr+res.stdout, edited) {
		t.Errorf("apply's failure does not name the fresh plan and %s:\n%s", edited, res)
	}
	if strings.Contains(strings.ToLower(res.stderr+res.stdout), strings.ToLower(apply.TLSBaselineMessage)) {
		t.Errorf("apply recorded the baseline although the verifying plan held another change:\n%s", res)
	}
	if st := c.liveStamp(); st.Recorded != "" || st.Template != "" {
		t.Errorf("stamp %+v after the failed verification, want none (issued %s)", st, issued.fingerprint)
	}
}
