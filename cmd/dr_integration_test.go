package cmd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/views"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// markVerified records a passed verification of id, as `backup verify` does.
func markVerified(t *testing.T, bucketDir, id string) {
	t.Helper()
	ctx := context.Background()
	b, err := blob.Open(ctx, "file://"+bucketDir, blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := catalog.New[blob.Object](b, func(o blob.Object) string { return o.Key }, catalog.Options{})
	if err := c.AddVerification(ctx, id, catalog.Verification{Result: catalog.VerificationPassed, Started: time.Now().Add(-10 * time.Minute), Duration: time.Minute, Method: "neo4j-admin database load+check", Where: "test"}); err != nil {
		t.Fatal(err)
	}
}

type drillJSON struct {
	Started time.Time `json:"started"`
	Healthy time.Time `json:"healthy"`
	RTO     struct {
		Seconds      int64 `json:"seconds"`
		Milliseconds int64 `json:"milliseconds"`
	} `json:"rto"`
	Points []struct {
		Database string `json:"database"`
		Newest   string `json:"newest"`
		RPO      struct {
			Seconds int64 `json:"seconds"`
		} `json:"rpo"`
	} `json:"points"`
	Steps []struct {
		Name string `json:"name"`
		Took struct {
			Milliseconds int64 `json:"milliseconds"`
		} `json:"took"`
		Simulated string `json:"simulated"`
		Error     string `json:"error"`
	} `json:"steps"`
	Counts []struct {
		Database string `json:"database"`
		Restored string `json:"restored"`
		Nodes    int64  `json:"nodes"`
	} `json:"counts"`
	Missed    []string `json:"missed"`
	Simulated bool     `json:"simulated"`
	Met       bool     `json:"met"`
}

// TestDRDrillCommunity runs `neo4jctl dr drill` of a Community standalone
// on the real control plane with the simulator. Real: the catalogue read,
// the scratch namespace created and labelled, the Secrets copied, the
// apply into it, the restore (load Job read back by the API server), the
// healthcheck and the count query over Bolt, the teardown. Simulated, and
// marked so in the report: kwok completes the load Job's Pod and makes
// the server's Pod Ready without running either; Neo4j is the simulator
// (it answers the count it was given).
//
// Met: RTO and RPO printed, RTO equal to the wall time the test measured
// (minus the teardown, which comes after healthy) within 1 s, the scratch
// namespace gone. Missed (an RPO objective shorter than the backup's age):
// exit 3 naming the miss. A namespace the drill did not label is refused.
func TestDRDrillCommunity(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, _ := communityRestoreFixture(t, ctx)
	cs, err := f.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets(f.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"keyset.json": "{}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := putDumpEntry(t, f.bucket, "community", "neo4j", time.Now().Add(-30*time.Minute))
	markVerified(t, f.bucket, e.ID)
	// Objectives: RTO 10m, RPO 1h (met by a 30-minute-old backup).
	b, err := os.ReadFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	withObjectives := func(rpo string) string {
		return string(b) + "    objectives:\n      rto: 10m\n      rpo: " + rpo + "\n"
	}
	if err := os.WriteFile(f.file, []byte(withObjectives("1h")), 0o644); err != nil {
		t.Fatal(err)
	}

	drillIn := func(scratch string, nodes int64) (int, string, string, time.Duration) {
		sim, err := harness.StartSim(ctx, f.env, f.c, scratch, "community-pw-1", neo4jsim.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer sim.Close()
		sim.SetNodeCount("neo4j", nodes)
		start := time.Now()
		code, out, errOut := f.run(ctx, "dr", "drill", "-f", f.file, "--namespace", scratch, "--neo4j-password-file", f.pwFile, "-o", "json", "--step-timeout", "60s")
		return code, out, errOut, time.Since(start)
	}

	// 1. Objectives met.
	scratch := f.ns + "-dr"
	code, out, errOut, wall := drillIn(scratch, 42)
	if code != ExitOK {
		t.Fatalf("dr drill: exit %d\n%s\n%s", code, out, errOut)
	}
	var r drillJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if !r.Met || !r.Simulated || r.Healthy.IsZero() {
		t.Errorf("report: met %v simulated %v healthy %v\n%s", r.Met, r.Simulated, r.Healthy, out)
	}
	var teardown time.Duration
	simulated := map[string]bool{}
	for _, s := range r.Steps {
		if s.Error != "" {
			t.Errorf("step %s failed: %s", s.Name, s.Error)
		}
		if strings.HasPrefix(s.Name, "tear down") {
			teardown = time.Duration(s.Took.Milliseconds) * time.Millisecond
		}
		simulated[strings.Fields(s.Name)[0]] = s.Simulated != ""
	}
	for _, name := range []string{"apply", "restore", "healthcheck", "count"} {
		if !simulated[name] {
			t.Errorf("step %s is not marked simulated: %+v", name, r.Steps)
		}
	}
	// The RTO is the wall time from start to healthy: the wall time the
	// test measured, less what came after healthy (the teardown, whose
	// duration the report gives, and printing the report).
	rto := time.Duration(r.RTO.Milliseconds) * time.Millisecond
	measured := r.Healthy.Sub(r.Started)
	if d := math.Abs(float64(rto - (wall - teardown))); d > float64(time.Second) {
		t.Errorf("RTO %s, measured wall %s less teardown %s = %s: off by more than 1 s", rto, wall, teardown, wall-teardown)
	}
	if d := math.Abs(float64(rto - measured)); d > float64(time.Second) {
		t.Errorf("RTO %s vs healthy-started %s", rto, measured)
	}
	t.Logf("drill: RTO %s, wall %s (teardown %s)", rto, wall.Round(time.Millisecond), teardown)
	if len(r.Points) != 1 || r.Points[0].Newest != e.ID || r.Points[0].RPO.Seconds < 30*60 || r.Points[0].RPO.Seconds > 30*60+int64(wall/time.Second)+2 {
		t.Errorf("RPO: %+v, want %s about 30m old", r.Points, e.ID)
	}
	if len(r.Counts) != 1 || r.Counts[0].Nodes != 42 || r.Counts[0].Restored != e.ID {
		t.Errorf("counts: %+v, want neo4j 42 nodes from %s", r.Counts, e.ID)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); err == nil {
		t.Errorf("the scratch namespace %s is still there", scratch)
	}
	if _, err := cs.AppsV1().StatefulSets(f.ns).Get(ctx, "community", metav1.GetOptions{}); err != nil {
		t.Errorf("the drilled cluster's StatefulSet: %v", err)
	}

	// 2. The text report prints RTO and RPO; an RPO objective of 10m is
	// missed by a 30-minute-old backup: exit 3.
	if err := os.WriteFile(f.file, []byte(withObjectives("10m")), 0o644); err != nil {
		t.Fatal(err)
	}
	sim, err := harness.StartSim(ctx, f.env, f.c, scratch+"2", "community-pw-1", neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	code, out, errOut = f.run(ctx, "dr", "drill", "-f", f.file, "--namespace", scratch+"2", "--neo4j-password-file", f.pwFile, "--step-timeout", "60s")
	if code != ExitUnhealthy {
		t.Fatalf("dr drill with a missed RPO: exit %d, want 3\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"RTO achieved: ", "(objective 10m0s)", "RPO of neo4j: 30m", "objective 10m0s", "Drill: OBJECTIVE MISSED", "missed: RPO of neo4j", "[simulated: kwok completes the restore Job's Pod"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	t.Logf("missed:\n%s", out)

	// Both drills are recorded beside the catalogue, oldest first; the
	// newest (missed) makes healthcheck's backup.drill FAIL, and status
	// prints it with its figures.
	ds := drillsIn(t, f.bucket, "community")
	if len(ds) != 2 || !ds[0].Passed() || ds[1].Passed() || !ds[0].Simulated || ds[0].Databases[0].Restored != e.ID ||
		ds[0].Databases[0].Nodes == nil || *ds[0].Databases[0].Nodes != 42 || math.Abs(float64(ds[0].RTO-rto)) > float64(time.Millisecond) ||
		ds[1].RPOObjective != 10*time.Minute || len(ds[1].Missed) == 0 {
		t.Errorf("drill records: %+v", ds)
	}
	code, out, errOut = f.run(ctx, "healthcheck", "-f", f.file, "--neo4j-password-file", f.pwFile, "-o", "json")
	var doc views.HealthDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Reports) != 1 {
		t.Fatalf("healthcheck: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	var drillCheck *healthcheck.Check
	for i, c := range doc.Reports[0].Checks {
		if c.ID == healthcheck.IDDrill {
			drillCheck = &doc.Reports[0].Checks[i]
		}
	}
	if code != ExitUnhealthy || drillCheck == nil || drillCheck.Status != healthcheck.Fail || !strings.Contains(drillCheck.Summary, "RPO of neo4j") {
		t.Errorf("healthcheck after the missed drill: exit %d, backup.drill %+v", code, drillCheck)
	}
	code, out, errOut = f.run(ctx, "status", "-f", f.file, "--neo4j-password-file", f.pwFile)
	if !strings.Contains(out, "Last DR drill: "+ds[1].Started.Format(time.RFC3339)) || !strings.Contains(out, "FAILED, RTO ") ||
		!strings.Contains(out, "(objective 10m0s), RPO 30m") || !strings.Contains(out, "[simulated]") {
		t.Errorf("status: exit %d\n%s\n%s", code, out, errOut)
	}

	// 3. Interrupted (Ctrl-C cancels the context) once the scratch
	// cluster's StatefulSet exists: exit 130, and the scratch namespace is
	// torn down all the same.
	sim3, err := harness.StartSim(ctx, f.env, f.c, scratch+"3", "community-pw-1", neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim3.Close()
	runCtx, interrupt := context.WithCancel(ctx)
	go func() {
		for runCtx.Err() == nil {
			if _, err := cs.AppsV1().StatefulSets(scratch+"3").Get(runCtx, "community", metav1.GetOptions{}); err == nil {
				interrupt()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	code, out, errOut = f.run(runCtx, "dr", "drill", "-f", f.file, "--namespace", scratch+"3", "--neo4j-password-file", f.pwFile, "--step-timeout", "60s")
	interrupt()
	if code != ExitInterrupted || !strings.Contains(errOut, "scratch namespace "+scratch+"3 deleted") {
		t.Errorf("interrupted drill: exit %d, want 130\n%s\n%s", code, out, errOut)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, scratch+"3", metav1.GetOptions{}); err == nil {
		t.Errorf("the interrupted drill left its scratch namespace")
	}

	// 4. A namespace the drill did not create is refused, untouched.
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.ns + "-other"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = f.run(ctx, "dr", "drill", "-f", f.file, "--namespace", f.ns+"-other", "--neo4j-password-file", f.pwFile)
	if code != ExitError || !strings.Contains(errOut, "is not a drill namespace") {
		t.Errorf("drill into a foreign namespace: exit %d\n%s", code, errOut)
	}
	if ns, err := cs.CoreV1().Namespaces().Get(ctx, f.ns+"-other", metav1.GetOptions{}); err != nil || ns.DeletionTimestamp != nil {
		t.Errorf("the foreign namespace was touched: %v", err)
	}
}

// TestDRDrillEnterprise runs `neo4jctl dr drill` of the quickstart (3
// servers, database movies) on the real control plane with the
// simulator: the scratch cluster applied (servers enabled, movies
// created), movies recreated from the seed Pod's URI and waited online on
// every allocation, healthcheck, the count. Simulated and marked so:
// kwok makes the servers' and the seed Pod Ready without running them;
// the simulator reads the seed as readable when the seed Pod is Ready
// behind its Service in the scratch namespace.
func TestDRDrillEnterprise(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	f, bucket, e := enterpriseRestoreFixture(t, ctx)
	markVerified(t, bucket, e.ID)
	b, err := os.ReadFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.file, append(b, "    objectives:\n      rto: 10m\n      rpo: 1h\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	scratch := f.ns + "-dr"
	sim, err := harness.StartSim(ctx, f.env, f.c, scratch, driftPassword, neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetNodeCount("movies", 171)
	sim.SetSeedReader(func(ctx context.Context, uri string) error {
		host := strings.TrimPrefix(uri, "http://")
		name := host[:strings.Index(host, ".")]
		if _, err := f.cs.CoreV1().Services(scratch).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return err
		}
		pod, err := f.cs.CoreV1().Pods(scratch).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !podReady(pod) {
			return errors.New("seed pod not ready")
		}
		return nil
	})
	start := time.Now()
	code, out, errOut := f.run(f.env.Kubeconfig, "dr", "drill", "-f", f.file, "--namespace", scratch, "--neo4j-password-file", f.pwFile, "-o", "json", "--step-timeout", "90s", "--online-timeout", "60s")
	wall := time.Since(start)
	if code != ExitOK {
		t.Fatalf("dr drill: exit %d\n%s\n%s", code, out, errOut)
	}
	var r drillJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if !r.Met || !r.Simulated || len(r.Counts) != 1 || r.Counts[0].Database != "movies" || r.Counts[0].Nodes != 171 || r.Counts[0].Restored != e.ID {
		t.Errorf("report: %s", out)
	}
	if !strings.Contains(errOut, "dbms.cluster.recreateDatabase('movies'") || !strings.Contains(errOut, "movies is online on 3 allocations") {
		t.Errorf("the drill did not recreate movies from the seed and wait for every allocation:\n%s", errOut)
	}
	t.Logf("enterprise drill: RTO %dms, wall %s", r.RTO.Milliseconds, wall.Round(time.Millisecond))
	if _, err := f.cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); err == nil {
		t.Errorf("the scratch namespace %s is still there", scratch)
	}
}

// drillsIn lists the drill records of cluster in the file:// bucket.
func drillsIn(t *testing.T, bucketDir, cluster string) []catalog.Drill {
	t.Helper()
	ctx := context.Background()
	b, err := blob.Open(ctx, "file://"+bucketDir, blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ds, err := catalog.New[blob.Object](b, func(o blob.Object) string { return o.Key }, catalog.Options{}).ListDrills(ctx, cluster)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestDRDrillTLS drills a Community server with spec.tls (Bolt, verified)
// on the real control plane: its TLS Secret is copied into the scratch
// namespace (labelled, gone with it), where the apply, healthcheck and
// count verify the simulator's certificate against the copied ca.crt.
// Before that, a certificate valid only for the cluster's own namespace
// is refused before anything is copied (the drill's Bolt connections
// verify the scratch namespace's names), with the fix; the namespace is
// torn down all the same. The source cluster need not run: a drill reads
// only its catalogue and Secrets.
func TestDRDrillTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
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
	spec = strings.Replace(spec, "  edition: community\n", "  edition: community\n  tls:\n    secretName: community-tls\n    scopes: [bolt]\n", 1) +
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
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets(f.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"keyset.json": "{}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	scratch := f.ns + "-dr"
	names := func(ns string) string {
		return "*." + manifests.HeadlessServiceName(f.c) + "." + ns + ".svc." + manifests.ClusterDomain
	}
	putTLS := func(pki *neo4jsim.PKI) {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "community-tls", Namespace: f.ns}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: pki.CertPEM, corev1.TLSPrivateKeyKey: pki.KeyPEM, "ca.crt": pki.CAPEM}}
		if _, err := cs.CoreV1().Secrets(f.ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			if _, err := cs.CoreV1().Secrets(f.ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	e := putDumpEntry(t, f.bucket, "community", "neo4j", time.Now().Add(-30*time.Minute))
	markVerified(t, f.bucket, e.ID)

	// 1. A certificate for the cluster's own namespace only: refused
	// before anything is copied, the fix named, exit 3 (never healthy).
	putTLS(longPKI(t, names(f.ns)))
	code, out, errOut := f.run(ctx, "dr", "drill", "-f", f.file, "--namespace", scratch, "--neo4j-password-file", f.pwFile, "-o", "json", "--step-timeout", "60s")
	var refused drillJSON
	if err := json.Unmarshal([]byte(out), &refused); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if code != ExitUnhealthy || refused.Met || len(refused.Steps) != 2 || !strings.HasPrefix(refused.Steps[0].Name, "copy Secrets") ||
		!strings.Contains(refused.Steps[0].Error, "is not valid for community-0."+manifests.HeadlessServiceName(f.c)+"."+scratch) ||
		!strings.Contains(refused.Steps[0].Error, "add "+names(scratch)) {
		t.Errorf("drill with a certificate for another namespace: exit %d, want 3, refused at the copy, then torn down\n%s\n%s", code, out, errOut)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); err == nil {
		t.Errorf("the scratch namespace %s is still there", scratch)
	}

	// 2. A certificate for both namespaces: copied, verified, met.
	both := longPKI(t, names(f.ns), names(scratch))
	putTLS(both)
	sim, err := harness.StartSim(ctx, env, f.c, scratch, "community-pw-1", neo4jsim.Config{TLS: both.Server})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetNodeCount("neo4j", 7)
	copied := make(chan string, 1)
	go func() {
		for ctx.Err() == nil {
			if s, err := cs.CoreV1().Secrets(scratch).Get(ctx, "community-tls", metav1.GetOptions{}); err == nil {
				copied <- s.Labels[DrillLabel]
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	code, out, errOut = f.run(ctx, "dr", "drill", "-f", f.file, "--namespace", scratch, "--neo4j-password-file", f.pwFile, "-o", "json", "--step-timeout", "60s")
	if code != ExitOK {
		t.Fatalf("dr drill with TLS: exit %d\n%s\n%s", code, out, errOut)
	}
	var r drillJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if !r.Met || len(r.Counts) != 1 || r.Counts[0].Nodes != 7 {
		t.Errorf("report: %s", out)
	}
	select {
	case label := <-copied:
		if label != "community" {
			t.Errorf("the copied TLS Secret is labelled %s=%q, want community", DrillLabel, label)
		}
	default:
		t.Error("the TLS Secret was never seen in the scratch namespace")
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); err == nil {
		t.Errorf("the scratch namespace %s is still there", scratch)
	}
	// Both drills are recorded: the refused one failed, this one passed.
	ds := drillsIn(t, f.bucket, "community")
	if len(ds) != 2 || ds[0].Passed() || !ds[1].Passed() || ds[1].Databases[0].Restored != e.ID {
		t.Errorf("drill records: %+v", ds)
	}
}

// longPKI is neo4jsim.NewTestPKI with certificates valid for 90 days: a
// drill runs healthcheck in the scratch namespace, whose config.tls check
// FAILs a certificate expiring within 7 days (NewTestPKI's last an hour).
func longPKI(t *testing.T, hosts ...string) *neo4jsim.PKI {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "drill test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "drill"}, DNSNames: hosts,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &neo4jsim.PKI{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	cert, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	p.Server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return p
}
