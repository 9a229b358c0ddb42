package cmd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/internal/views"
)

func TestHealthcheckFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"healthcheck"}, "-f CLUSTER_FILE is required"},
		{"bad output", []string{"healthcheck", "-f", "x.yaml", "-o", "yaml"}, "unknown output format"},
		{"bad fail-on", []string{"healthcheck", "-f", "x.yaml", "--fail-on", "error"}, "--fail-on must be fail or warn"},
		{"status without file", []string{"status"}, "-f CLUSTER_FILE is required"},
		{"status markdown", []string{"status", "-f", "x.yaml", "-o", "markdown"}, "unknown output format"},
		{"status watch interval", []string{"status", "-f", "x.yaml", "--watch", "--interval", "0s"}, "--interval must be positive"},
		{"report without bundle", []string{"report", "-f", "x.yaml"}, "-o BUNDLE.tar.gz is required"},
		{"report negative tail", []string{"report", "-f", "x.yaml", "-o", "b.tgz", "--logs-tail", "-1"}, "--logs-tail must be 0 or more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != ExitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("got exit %d, stderr %q; want exit 1 mentioning %q", code, stderr, tc.want)
			}
		})
	}
}

// No access to Kubernetes at all is exit 1 (an error), never a verdict.
func TestHealthcheckWithoutKubernetes(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := &driftFixture{t: t}
	code, out, errOut := f.run(kubeconfig, "healthcheck", "-f", "../examples/quickstart.yaml")
	if code != ExitError || !strings.Contains(errOut, "cannot reach Kubernetes") || out != "" {
		t.Errorf("got exit %d, stdout %q, stderr %q; want exit 1, cannot reach Kubernetes, nothing on stdout", code, out, errOut)
	}
}

// TestHealthcheckFaults runs `neo4jctl healthcheck` on the quickstart
// cluster applied to the test control plane, with the Bolt simulator
// following its Pods through port-forwards: healthy first, then with one
// real fault at a time, each named by its check with exit 3.
func TestHealthcheckFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	f := newDriftFixture(t, ctx)
	kc := f.env.Kubeconfig

	check := func(code int, doc *views.HealthDocument, id string) healthcheck.Check {
		t.Helper()
		if doc == nil || len(doc.Reports) != 1 {
			t.Fatalf("exit %d: no report", code)
		}
		for _, c := range doc.Reports[0].Checks {
			if c.ID == id {
				return c
			}
		}
		t.Fatalf("no check %s", id)
		return healthcheck.Check{}
	}
	// eventually runs healthcheck until the check id has status want
	// (the simulator and the controllers take a moment).
	eventually := func(what, id string, want healthcheck.Status, extra ...string) (int, *views.HealthDocument, healthcheck.Check) {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for {
			code, doc, errOut := f.healthcheck(kc, extra...)
			if doc != nil {
				if c := check(code, doc, id); c.Status == want {
					return code, doc, c
				}
			}
			if time.Now().After(deadline) {
				b, _ := json.MarshalIndent(doc, "", "  ")
				t.Fatalf("%s: %s never became %s; last exit %d, stderr %s\n%s", what, id, want, code, errOut, b)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}

	// Healthy: every check PASS or SKIP (Warning events of the start-up,
	// e.g. scheduling before the claims were bound, may WARN), exit 0.
	code, doc, _ := eventually("healthy", healthcheck.IDServers, healthcheck.Pass)
	for _, c := range doc.Reports[0].Checks {
		if c.Status == healthcheck.Fail || c.Status == healthcheck.Unknown || (c.Status == healthcheck.Warn && c.ID != healthcheck.IDEvents) {
			t.Errorf("healthy cluster: %s is %s: %s %q", c.ID, c.Status, c.Summary, c.Evidence)
		}
	}
	if code != ExitOK {
		t.Errorf("healthy cluster: got exit %d, want 0", code)
	}
	if c := check(code, doc, healthcheck.IDStatusCheck); !strings.Contains(strings.Join(c.Evidence, "\n"), "movies: 3 of 3 members replicate") {
		t.Errorf("statusCheck evidence: got %q, want movies' three members", c.Evidence)
	}
	// The API server will not proxy to kwok's loopback kubelets, so store
	// usage cannot be read here (its check is tested over a Summary API
	// response in package healthcheck): SKIP by default, UNKNOWN when
	// asked for.
	if c := check(code, doc, healthcheck.IDStorage); c.Status != healthcheck.Skip || !strings.Contains(c.Summary, "the node proxy refused") {
		t.Errorf("store usage: got %s %q, want SKIP saying the node proxy refused", c.Status, c.Summary)
	}
	if code, doc, _ := f.healthcheck(kc, "--volume-stats", "on"); code != ExitUnhealthy || check(code, doc, healthcheck.IDStorage).Status != healthcheck.Unknown {
		t.Errorf("--volume-stats on: got exit %d, want 3 with the store usage UNKNOWN", code)
	}
	if c := check(code, doc, healthcheck.IDPDB); !strings.Contains(c.Summary, "1 disruption allowed") {
		t.Errorf("PDB: got %q, want 1 disruption allowed", c.Summary)
	}

	// status: one screen from the same observation.
	code, out, errOut := f.run(kc, "status", "-f", f.file, "--neo4j-password-file", f.pwFile)
	for _, want := range []string{"Cluster " + f.ns + "/quickstart\n", "Edition: enterprise   Version: ", "Disruption budget: 1 disruption allowed",
		"quickstart-2  kwok-node-", "Enabled  Available  movies,neo4j,system", "movies    3p/0s  3p/0s      3p/0s"} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("status: got exit %d, stdout\n%s\nstderr %s\nwant exit 0 and %q", code, out, errOut, want)
		}
	}
	// The start-up's Warning events (scheduling before the claims were
	// bound) may make the verdict WARN; nothing worse.
	if !strings.Contains(out, "Health: PASS") && !strings.Contains(out, "Health: WARN") {
		t.Errorf("status: got\n%s\nwant Health: PASS or WARN", out)
	}

	// status --watch redraws until stopped (appending when piped); a
	// SIGTERM-like stop is a clean exit.
	wctx, stopWatch := context.WithCancelCause(ctx)
	time.AfterFunc(2500*time.Millisecond, func() { stopWatch(errTerminated) })
	wio, _, wout, _ := iostreams.Test()
	wflags := genericclioptions.NewConfigFlags(true)
	wflags.KubeConfig = &kc
	wcode := Run(wctx, &Factory{IO: wio, KubeFlags: wflags, Build: BuildInfo{Version: "test"}},
		[]string{"status", "-f", f.file, "--watch", "--interval", "500ms", "--neo4j-password-file", f.pwFile})
	if n := strings.Count(wout.String(), "Cluster "+f.ns+"/quickstart\n"); wcode != ExitOK || n < 2 {
		t.Errorf("status --watch: got exit %d and %d screens, want exit 0 and at least 2", wcode, n)
	}

	// A database offline with a status message.
	if err := f.sim.SetDatabaseOffline("movies", "store failed to start: checksum mismatch"); err != nil {
		t.Fatal(err)
	}
	code, _, c := eventually("database offline", healthcheck.IDDatabases, healthcheck.Fail)
	if code != ExitUnhealthy || !strings.Contains(strings.Join(c.Evidence, "\n"), "requested online, current offline: store failed to start: checksum mismatch") {
		t.Errorf("database offline: got exit %d, evidence %q; want exit 3 with the status message", code, c.Evidence)
	}
	if err := f.sim.SetDatabaseOffline("movies", ""); err != nil {
		t.Fatal(err)
	}
	eventually("database back", healthcheck.IDDatabases, healthcheck.Pass)

	// A server left Cordoned.
	srv, ok := f.sim.Server(f.ns + "/quickstart-2")
	if !ok {
		for _, s := range f.sim.Servers() {
			if strings.HasPrefix(s.Advertised, "quickstart-2.") {
				srv, ok = s, true
			}
		}
	}
	if !ok {
		t.Fatalf("no simulated server for quickstart-2 in %+v", f.sim.Servers())
	}
	nc, err := neo4j.Open(ctx, neo4j.Config{URI: f.sim.URI("neo4j"), Username: "neo4j", Password: driftPassword, Resolver: neo4j.MapResolver(f.sim.AddressMap())})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close(ctx)
	if err := nc.CordonServer(ctx, srv.ID); err != nil {
		t.Fatal(err)
	}
	code, _, c = eventually("cordoned", healthcheck.IDServers, healthcheck.Fail)
	if ev := strings.Join(c.Evidence, "\n"); code != ExitUnhealthy || !strings.Contains(ev, "quickstart-2: server "+srv.Name+" Cordoned, Available") ||
		!strings.Contains(c.Fix, "ENABLE SERVER") {
		t.Errorf("cordoned: got exit %d, evidence %q, fix %q; want exit 3 naming quickstart-2 Cordoned and ENABLE SERVER", code, c.Evidence, c.Fix)
	}
	if err := nc.EnableServer(ctx, srv.ID, neo4j.ServerOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("enabled again", healthcheck.IDServers, healthcheck.Pass)

	// A server Unavailable to the cluster while its Pod stays Ready.
	if err := f.sim.SetAvailable(srv.ID, false); err != nil {
		t.Fatal(err)
	}
	code, doc, c = eventually("unavailable", healthcheck.IDServers, healthcheck.Fail)
	if code != ExitUnhealthy || !strings.Contains(strings.Join(c.Evidence, "\n"), "quickstart-2: server "+srv.Name+" Enabled, Unavailable") {
		t.Errorf("unavailable: got exit %d, evidence %q", code, c.Evidence)
	}
	if sc := check(code, doc, healthcheck.IDStatusCheck); sc.Status != healthcheck.Fail || !strings.Contains(strings.Join(sc.Evidence, "\n"), "movies: 2 of 3 members can replicate, a write would still succeed") {
		t.Errorf("unavailable: statusCheck got %s %q, want FAIL naming 2 of 3", sc.Status, sc.Evidence)
	}
	if p := check(code, doc, healthcheck.IDPods); p.Status != healthcheck.Pass {
		t.Errorf("unavailable: the Pods are still Ready, got %s %q", p.Status, p.Evidence)
	}
	if err := f.sim.SetAvailable(srv.ID, true); err != nil {
		t.Fatal(err)
	}
	eventually("available again", healthcheck.IDStatusCheck, healthcheck.Pass)

	// A Pod made not Ready (kwok leaves a status it has already set
	// alone): the Pods check names it and the PodDisruptionBudget, which
	// allows one server down, now refuses the next eviction.
	setReady := func(status corev1.ConditionStatus) {
		t.Helper()
		patch := `{"status":{"conditions":[{"type":"Ready","status":"` + string(status) + `"}]}}`
		if _, err := f.cs.CoreV1().Pods(f.ns).Patch(ctx, "quickstart-1", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
			t.Fatal(err)
		}
	}
	setReady(corev1.ConditionFalse)
	code, doc, c = eventually("pod not ready", healthcheck.IDPDB, healthcheck.Fail)
	if code != ExitUnhealthy || !strings.Contains(c.Summary, "the next voluntary eviction (a node drain, a cluster upgrade) will be refused") {
		t.Errorf("pod not ready: got exit %d, PDB %q", code, c.Summary)
	}
	if p := check(code, doc, healthcheck.IDPods); p.Status != healthcheck.Fail || !strings.Contains(strings.Join(p.Evidence, "\n"), "quickstart-1: not Ready") {
		t.Errorf("pod not ready: Pods check got %s %q", p.Status, p.Evidence)
	}
	setReady(corev1.ConditionTrue)
	eventually("ready again", healthcheck.IDPDB, healthcheck.Pass)

	// Members disagreeing on the leader: a WARN, exit 0 unless --fail-on warn.
	f.sim.SetSplitBrain("movies", true)
	code, _, c = eventually("leader disagreement", healthcheck.IDStatusCheck, healthcheck.Warn)
	if code != ExitOK || !strings.Contains(strings.Join(c.Evidence, "\n"), "the highest") {
		t.Errorf("leader disagreement: got exit %d, evidence %q; want 0 and the trusted term", code, c.Evidence)
	}
	if code, _, _ := f.healthcheck(kc, "--fail-on", "warn"); code != ExitUnhealthy {
		t.Errorf("leader disagreement with --fail-on warn: got exit %d, want 3", code)
	}
	f.sim.SetSplitBrain("movies", false)

	// A claim left Pending: the claim of a fourth ordinal asks for a storage
	// class that does not exist, and the StatefulSet is scaled out of band
	// to mount it (the Pod then waits on it, as after a typo in the class).
	class := "no-such-class"
	_, err = f.cs.CoreV1().PersistentVolumeClaims(f.ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data-quickstart-3"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: &class,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, _, c = eventually("claim without a Pod", healthcheck.IDClaims, healthcheck.Warn)
	if code != ExitOK || !strings.Contains(strings.Join(c.Evidence, "\n"), `data-quickstart-3: Pending, storage class "no-such-class", no Pod mounts it`) {
		t.Errorf("claim without a Pod: got exit %d, evidence %q", code, c.Evidence)
	}
	if _, err := f.cs.AppsV1().StatefulSets(f.ns).Patch(ctx, "quickstart", types.MergePatchType, []byte(`{"spec":{"replicas":4}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	code, _, c = eventually("pending claim", healthcheck.IDClaims, healthcheck.Fail)
	if code != ExitUnhealthy || !strings.Contains(strings.Join(c.Evidence, "\n"), `data-quickstart-3 (Pod quickstart-3): Pending, storage class "no-such-class"`) {
		t.Errorf("pending claim: got exit %d, evidence %q", code, c.Evidence)
	}
	// The GitHub view annotates the failing check against the cluster file.
	code, out, _ = f.run(kc, "healthcheck", "-f", f.file, "-o", "github", "--neo4j-password-file", f.pwFile)
	if code != ExitUnhealthy || !strings.Contains(out, "::error file="+f.file) || !strings.Contains(out, "kubernetes.claims") {
		t.Errorf("-o github: got exit %d, output\n%s\nwant an error annotation for kubernetes.claims", code, out)
	}

	// report on the broken cluster: a bundle with no secret in it. The
	// password (the canary) is in the auth Secret, in a dbms.*password*
	// setting and, out of band, in an environment variable of the
	// StatefulSet whose name does not look like a credential. A second
	// canary, known to no one, sits inside a value: a JVM option of a
	// harmlessly named setting.
	const jvmCanary = "canary-jvm-opt-5e1"
	f.sim.SetSetting("dbms.security.ldap.authorization.system_password", driftPassword)
	f.sim.SetSetting("server.jvm.additional", "-XX:+UseG1GC -Dfoo.password="+jvmCanary)
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"neo4j","env":[{"name":"EXTRA_SETTING","value":"` + driftPassword + `"}]}]}}}}`
	if _, err := f.cs.AppsV1().StatefulSets(f.ns).Patch(ctx, "quickstart", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "support.tar.gz")
	code, out, errOut = f.run(kc, "report", "-f", f.file, "-o", bundle, "--neo4j-password-file", f.pwFile, "--logs-tail", "50")
	if code != ExitOK {
		t.Fatalf("report: exit %d\n%s\n%s", code, out, errOut)
	}
	fh, err := os.Open(bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	files := harness.ReadTarGz(t, fh)
	dir := "neo4jctl-report-" + f.ns + "-quickstart/"
	for _, name := range []string{"MANIFEST", "version.txt", "cluster.yaml", "rendered.yaml", "live.yaml", "pods.yaml", "events.txt",
		"healthcheck.json", "neo4j/show-servers.json", "neo4j/show-databases.json", "neo4j/show-settings.json", "neo4j/statuscheck.json"} {
		if _, ok := files[dir+name]; !ok {
			t.Errorf("bundle lacks %s; MANIFEST:\n%s", name, files[dir+"MANIFEST"])
		}
	}
	// Every container's log is either in the bundle or named, with the
	// error, in the MANIFEST (kwok's kubelet serves no logs).
	if _, ok := files[dir+"logs/quickstart-0_neo4j.log"]; !ok && !strings.Contains(files[dir+"MANIFEST"], "Not collected:\n  logs/quickstart-0_neo4j.log: ") {
		t.Errorf("quickstart-0's log neither collected nor listed as not collected:\n%s", files[dir+"MANIFEST"])
	}
	for name, body := range files {
		if strings.Contains(body, driftPassword) {
			t.Errorf("bundle file %s holds the canary password", name)
		}
		if strings.Contains(body, jvmCanary) {
			t.Errorf("bundle file %s holds the canary inside server.jvm.additional", name)
		}
	}
	if !strings.Contains(files[dir+"live.yaml"], "EXTRA_SETTING") || !strings.Contains(files[dir+"neo4j/show-settings.json"], "dbms.security.ldap.authorization.system_password") ||
		!strings.Contains(files[dir+"neo4j/show-settings.json"], "-Dfoo.password=") {
		t.Errorf("the canary's carriers are missing from the bundle: the scan above proves nothing")
	}
	if !strings.Contains(files[dir+"healthcheck.json"], `"kubernetes.claims"`) || !strings.Contains(files[dir+"version.txt"], "Neo4j enterprise 5.") {
		t.Errorf("healthcheck.json or version.txt incomplete:\n%s", files[dir+"version.txt"])
	}
	if errs := f.sim.Errs(); len(errs) > 0 {
		t.Errorf("simulator: %v", errs)
	}
}

// healthcheck runs `neo4jctl healthcheck -o json` and decodes its document.
func (f *driftFixture) healthcheck(kubeconfig string, extra ...string) (int, *views.HealthDocument, string) {
	args := append([]string{"healthcheck", "-f", f.file, "-o", "json", "--neo4j-password-file", f.pwFile}, extra...)
	code, out, errOut := f.run(kubeconfig, args...)
	var doc views.HealthDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return code, nil, errOut + out
	}
	return code, &doc, errOut
}

// A certificate Secret expiring in 3 days fails the TLS check (read from
// tls.crt; the key is never read). Neo4j is skipped here: its checks are
// then SKIP, not UNKNOWN.
func TestHealthcheckCertificateExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "namespace: neo4j", "namespace: "+ns, 1)
	s = strings.Replace(s, "  servers: 3\n", "  servers: 3\n  tls:\n    secretName: quickstart-tls\n    scopes: [cluster]\n", 1)
	file := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := time.Now().Add(72 * time.Hour)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "quickstart"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "quickstart-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{
			"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			"tls.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := &driftFixture{t: t, file: file}
	code, doc, errOut := f.healthcheck(env.Kubeconfig, "--skip-neo4j")
	if doc == nil {
		t.Fatalf("exit %d, no report: %s", code, errOut)
	}
	var tls, servers healthcheck.Check
	for _, c := range doc.Reports[0].Checks {
		switch c.ID {
		case healthcheck.IDTLS:
			tls = c
		case healthcheck.IDServers:
			servers = c
		}
	}
	if code != ExitUnhealthy || tls.Status != healthcheck.Fail || !strings.Contains(strings.Join(tls.Evidence, "\n"), "quickstart-tls: CN=quickstart expires "+notAfter.UTC().Format(time.RFC3339)) {
		t.Errorf("got exit %d, TLS %s %q %q; want exit 3 and a FAIL naming the Secret and the expiry", code, tls.Status, tls.Summary, tls.Evidence)
	}
	if servers.Status != healthcheck.Skip {
		t.Errorf("--skip-neo4j: servers check got %s, want SKIP", servers.Status)
	}

	// A fleet: -f DIR checks every cluster file in it, one report each.
	other := strings.Replace(s, "name: quickstart\n", "name: second\n", 1)
	if err := os.WriteFile(filepath.Join(filepath.Dir(file), "second.yaml"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	f.file = filepath.Dir(file)
	code, doc, errOut = f.healthcheck(env.Kubeconfig, "--skip-neo4j")
	if doc == nil || len(doc.Reports) != 2 || doc.Reports[0].Cluster != ns+"/quickstart" || doc.Reports[1].Cluster != ns+"/second" || code != ExitUnhealthy {
		t.Fatalf("fleet: got exit %d, %+v (%s); want two reports, quickstart then second", code, doc, errOut)
	}
	// The second cluster was never applied: its Pods are missing.
	if c := doc.Reports[1].Checks[0]; c.ID != healthcheck.IDPods || c.Status != healthcheck.Fail || !strings.Contains(strings.Join(c.Evidence, "\n"), "second-0: missing") {
		t.Errorf("fleet: second cluster's Pods check got %+v", c)
	}
}

// Community Edition has no SHOW SERVERS and no statusCheck: those checks
// SKIP, the rest pass, exit 0.
func TestHealthcheckCommunity(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := testenv.Namespace(t, env)
	b, err := os.ReadFile("../examples/community.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "community.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "namespace: graphs", "namespace: "+ns, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("community-pw-1"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := harness.PrepareNamespace(ctx, env, c, ns, "community-pw-1"); err != nil {
		t.Fatal(err)
	}
	sim, err := harness.StartSim(ctx, env, c, ns, "community-pw-1", neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	f := &driftFixture{t: t, file: file, pwFile: pw}
	if code, out, errOut := f.run(env.Kubeconfig, "apply", "-f", file, "--auto-approve", "--neo4j-password-file", pw); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	// kwok reports Pods Running whether or not their claims are bound; a
	// kubelet would not start them before. Under load the host-path
	// provisioner can bind a claim after apply has seen the Pods Ready, so
	// wait for what a real cluster guarantees before asking for PASS.
	waitClaimsBound(ctx, t, env, ns)
	code, doc, errOut := f.healthcheck(env.Kubeconfig)
	if doc == nil {
		t.Fatalf("exit %d, no report: %s", code, errOut)
	}
	want := map[string]healthcheck.Status{
		healthcheck.IDServers: healthcheck.Skip, healthcheck.IDStrays: healthcheck.Skip, healthcheck.IDStatusCheck: healthcheck.Skip,
		healthcheck.IDPods: healthcheck.Pass, healthcheck.IDDatabases: healthcheck.Pass, healthcheck.IDWriters: healthcheck.Pass,
	}
	for _, ch := range doc.Reports[0].Checks {
		if w, ok := want[ch.ID]; ok && ch.Status != w {
			t.Errorf("%s: got %s (%s %q), want %s", ch.ID, ch.Status, ch.Summary, ch.Evidence, w)
		}
		if ch.Status == healthcheck.Fail || ch.Status == healthcheck.Unknown {
			t.Errorf("%s: %s %s %q", ch.ID, ch.Status, ch.Summary, ch.Evidence)
		}
	}
	if code != ExitOK {
		t.Errorf("got exit %d, want 0", code)
	}
}

// Two writers on the first read trigger a second read after the pause:
// still two is a split-brain (FAIL), one is a leader change (WARN); no
// second read without a suspect.
func TestRecheckSplitBrain(t *testing.T) {
	rows := func(writers ...string) []state.DatabaseAllocation {
		var out []state.DatabaseAllocation
		for _, s := range []string{"a", "b", "c"} {
			out = append(out, state.DatabaseAllocation{Name: "movies", ServerID: s, Role: "primary", RequestedStatus: "online", CurrentStatus: "online",
				Writer: slices.Contains(writers, s)})
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		first     []string
		second    []string
		wantReads int
		want      healthcheck.Status
	}{
		{"one writer", []string{"a"}, nil, 0, healthcheck.Pass},
		{"split-brain twice", []string{"a", "c"}, []string{"a", "c"}, 1, healthcheck.Fail},
		{"leader change in flight", []string{"a", "c"}, []string{"c"}, 1, healthcheck.Warn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := healthcheck.Input{Neo4j: state.Neo4j{Reachable: true, Edition: "enterprise", Databases: rows(tc.first...)}}
			reads := 0
			start := time.Now()
			recheckSplitBrain(context.Background(), &in, 50*time.Millisecond, func(context.Context) ([]state.DatabaseAllocation, error) {
				reads++
				if time.Since(start) < 50*time.Millisecond {
					t.Errorf("second read after %s, want at least 50ms", time.Since(start))
				}
				return rows(tc.second...), nil
			})
			if reads != tc.wantReads {
				t.Fatalf("got %d second reads, want %d", reads, tc.wantReads)
			}
			for _, c := range healthcheck.Compute(in).Checks {
				if c.ID == healthcheck.IDWriters && c.Status != tc.want {
					t.Errorf("writer check: got %s %q, want %s", c.Status, c.Evidence, tc.want)
				}
			}
		})
	}
}

// waitClaimsBound waits (up to a minute) until every claim in ns is Bound.
func waitClaimsBound(ctx context.Context, t *testing.T, env *testenv.Env, ns string) {
	t.Helper()
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		list, err := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, c := range list.Items {
			if c.Status.Phase != corev1.ClaimBound {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d claims in %s still not Bound after a minute", pending, ns)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
