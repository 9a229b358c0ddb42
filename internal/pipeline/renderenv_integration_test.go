package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// envReads watches, in front of the real API server, the three reads
// RenderForCluster makes: the API server's EndpointSlice, the live
// StatefulSet and the TLS Secret. Each is held for delay (to see whether
// they overlap) or answered with a status from fail instead (to see what
// RenderForCluster makes of it); every other request passes untouched.
type envReads struct {
	ns    string
	delay time.Duration
	fail  map[string]int // read ("slice", "sts", "secret") → HTTP status

	mu            sync.Mutex
	seen          []string
	inFlight, max int
}

func (e *envReads) which(r *http.Request) string {
	if r.Method != http.MethodGet {
		return ""
	}
	switch r.URL.Path {
	case "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes":
		return "slice"
	case "/apis/apps/v1/namespaces/" + e.ns + "/statefulsets/quickstart":
		return "sts"
	case "/api/v1/namespaces/" + e.ns + "/secrets/quickstart-tls":
		return "secret"
	}
	return ""
}

func (e *envReads) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		w := e.which(r)
		if w == "" {
			return rt.RoundTrip(r)
		}
		e.mu.Lock()
		e.seen = append(e.seen, w)
		e.inFlight++
		e.max = max(e.max, e.inFlight)
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			e.inFlight--
			e.mu.Unlock()
		}()
		e.hold()
		if code := e.fail[w]; code != 0 {
			return statusResponse(r, code), nil
		}
		return rt.RoundTrip(r)
	})
}

// hold keeps a read until the three are in flight together or delay has
// passed: reads made one after another never overlap however long each is
// held, and reads made together all arrive within delay even on a loaded
// machine (a fixed sleep of 300 ms once saw only two overlap under CI).
func (e *envReads) hold() {
	deadline := time.Now().Add(e.delay)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		all := e.inFlight >= 3
		e.mu.Unlock()
		if all {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *envReads) reset() ([]string, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen, m := e.seen, e.max
	e.seen, e.max = nil, 0
	slices.Sort(seen)
	return seen, m
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// statusResponse is the API server's answer of a failed request: a Status.
func statusResponse(r *http.Request, code int) *http.Response {
	reason := map[int]metav1.StatusReason{
		http.StatusForbidden: metav1.StatusReasonForbidden,
		http.StatusNotFound:  metav1.StatusReasonNotFound,
	}[code]
	if reason == "" {
		reason = metav1.StatusReasonBadRequest
	}
	b, _ := json.Marshal(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: int32(code), Reason: reason,
		Message: "injected by the test: " + string(reason),
	})
	return &http.Response{
		StatusCode: code, Status: http.StatusText(code), Request: r,
		Header: http.Header{"Content-Type": []string{"application/json"}},
		Body:   io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)),
	}
}

// tlsQuickstartIn is the quickstart in ns with Bolt TLS from the Secret
// quickstart-tls: its plan reads the API server's endpoints (Enterprise,
// NetworkPolicy on) and stamps the certificate (5.26, spec.tls).
func tlsQuickstartIn(t *testing.T, ns string) *Target {
	t.Helper()
	b, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(strings.Replace(string(b), "namespace: neo4j", "namespace: "+ns, 1),
		"  servers: 3\n", "  servers: 3\n  tls:\n    secretName: quickstart-tls\n    scopes: [bolt]\n", 1)
	tg, err := LoadData("quickstart.yaml", []byte(data), "")
	if err != nil {
		t.Fatal(err)
	}
	if !manifests.UsesAPIServer(tg.Cluster) || !manifests.TLSStamped(tg.Cluster) {
		t.Fatal("the test's cluster neither reads the API server's endpoints nor stamps its certificate")
	}
	return tg
}

// renderEnvSetup prepares a namespace with the TLS Secret and returns it,
// the Secret's fingerprint and a client factory whose requests pass
// through reads.
func renderEnvSetup(t *testing.T) (ns, fp string, client func(reads *envReads) *kube.Client) {
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns = testenv.Namespace(t, env)
	if err := harness.PrepareNamespace(ctx, env, tlsQuickstartIn(t, ns).Cluster, ns, "renderenv-password"); err != nil {
		t.Fatal(err)
	}
	pki, err := neo4jsim.NewTestPKI("*.quickstart-headless." + ns + ".svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	secret, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "quickstart-tls", Namespace: ns},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: pki.CertPEM, corev1.TLSPrivateKeyKey: pki.KeyPEM, "ca.crt": pki.CAPEM},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns, manifests.TLSFingerprint(secret.Data), func(reads *envReads) *kube.Client {
		t.Helper()
		reads.ns = ns
		cfg := env.RESTConfig()
		cfg.WrapTransport = reads.wrap
		kc, err := kube.NewForConfig(cfg, kube.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return kc
	}
}

func recordedStamp(t *testing.T, tg *Target) string {
	t.Helper()
	for _, o := range tg.Objects {
		if o.GetKind() == "StatefulSet" {
			return manifests.TLSStampOf(o.Object).Recorded
		}
	}
	t.Fatal("no StatefulSet rendered")
	return ""
}

// TestRenderForClusterReadsAtOnce: the API server's endpoints, the live
// StatefulSet and the TLS Secret are independent reads, so a plan sends
// them together — one round trip before observing, not three in a row —
// and still sends each once. A second render on the same client answers
// the Secret from its cache (the StatefulSet records nothing that
// disagrees), as before: no read is made only because it could overlap.
func TestRenderForClusterReadsAtOnce(t *testing.T) {
	ns, fp, client := renderEnvSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reads := &envReads{delay: 5 * time.Second}
	r := &Runner{Kube: client(reads), SkipNeo4j: true}

	tg := tlsQuickstartIn(t, ns)
	if err := r.RenderForCluster(ctx, tg); err != nil {
		t.Fatal(err)
	}
	seen, most := reads.reset()
	if want := []string{"secret", "slice", "sts"}; !slices.Equal(seen, want) {
		t.Errorf("reads %v, want each of %v once", seen, want)
	}
	if most != 3 {
		t.Errorf("at most %d of the three reads were in flight together, want 3 (they do not depend on each other)", most)
	}
	if got := recordedStamp(t, tg); got != fp {
		t.Errorf("stamp %q, want the Secret's fingerprint %s", got, fp)
	}

	tg = tlsQuickstartIn(t, ns)
	if err := r.RenderForCluster(ctx, tg); err != nil {
		t.Fatal(err)
	}
	seen, _ = reads.reset()
	if want := []string{"sts"}; !slices.Equal(seen, want) {
		t.Errorf("second render on the same client: reads %v, want %v (endpoints and fingerprint from the client's caches)", seen, want)
	}
	if got := recordedStamp(t, tg); got != fp {
		t.Errorf("second render: stamp %q, want %s", got, fp)
	}
}

// TestRenderForClusterErrors: what RenderForCluster makes of each read's
// failure, with the reads overlapped. Forbidden is a warning (the
// fallback policy, the stamp kept); any other error fails the render; when
// the endpoints and another read both fail, the endpoints' error is the
// one reported, as when they were read first.
func TestRenderForClusterErrors(t *testing.T) {
	ns, fp, client := renderEnvSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range []struct {
		name     string
		fail     map[string]int
		err      string // "": no error
		warning  string // "": none
		recorded string
	}{
		{name: "none", recorded: fp},
		{name: "slice forbidden", fail: map[string]int{"slice": 403}, warning: "cannot read EndpointSlice default/kubernetes", recorded: fp},
		{name: "slice bad", fail: map[string]int{"slice": 400}, err: "quickstart: read the API server's endpoints for the NetworkPolicy"},
		{name: "slice and statefulset bad", fail: map[string]int{"slice": 400, "sts": 400}, err: "read the API server's endpoints"},
		{name: "slice bad, secret forbidden", fail: map[string]int{"slice": 400, "secret": 403}, err: "read the API server's endpoints"},
		{name: "statefulset bad", fail: map[string]int{"sts": 400}, err: "quickstart: read StatefulSet quickstart for its TLS certificate stamp"},
		{name: "statefulset bad, secret bad", fail: map[string]int{"sts": 400, "secret": 400}, err: "read StatefulSet quickstart for its TLS certificate stamp"},
		{name: "secret forbidden", fail: map[string]int{"secret": 403}, warning: "cannot read Secret " + ns + "/quickstart-tls", recorded: ""},
		{name: "secret missing", fail: map[string]int{"secret": 404}, recorded: ""},
		{name: "secret bad", fail: map[string]int{"secret": 400}, err: "quickstart: read the TLS certificate's fingerprint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &Runner{Kube: client(&envReads{fail: c.fail}), SkipNeo4j: true}
			tg := tlsQuickstartIn(t, ns)
			err := r.RenderForCluster(ctx, tg)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want one containing %q", err, c.err)
			case c.err != "":
				return
			}
			w := strings.Join(tg.EnvWarnings, "\n")
			if c.warning == "" && w != "" || c.warning != "" && !strings.Contains(w, c.warning) {
				t.Errorf("warnings %q, want %q", w, c.warning)
			}
			if got := recordedStamp(t, tg); got != c.recorded {
				t.Errorf("stamp %q, want %q", got, c.recorded)
			}
		})
	}
}
