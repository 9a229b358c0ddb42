package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestWriteScratchFile: the scratch cluster file is the cluster file in
// the scratch namespace, without the backup and verification schedules
// (a drill must not write backups into the real cluster's catalogue), and
// still a valid cluster file.
func TestWriteScratchFile(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../examples/backups.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(string(b), "    objectives:", "    verification:\n      schedule: \"0 4 * * *\"\n    drill:\n      schedule: \"0 5 * * 1\"\n    objectives:", 1)
	in, out := filepath.Join(dir, "in.yaml"), filepath.Join(dir, "out.yaml")
	if err := os.WriteFile(in, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if c0, err := clusterfile.LoadFile(in); err != nil || c0.Spec.Backups.Schedule == nil || c0.Spec.Backups.Verification == nil || c0.Spec.Backups.Drill == nil {
		t.Fatalf("the input is not valid or lacks the schedules: %v", err)
	}
	if err := writeScratchFile(in, out, "backups-drill"); err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.LoadFile(out)
	if err != nil {
		t.Fatalf("scratch file: %v", err)
	}
	if c.Metadata.Namespace != "backups-drill" || c.Spec.Backups.Schedule != nil || c.Spec.Backups.Verification != nil || c.Spec.Backups.Drill != nil || c.Spec.Backups.Objectives == nil {
		t.Errorf("scratch file: namespace %q schedule %v verification %v objectives %v", c.Metadata.Namespace, c.Spec.Backups.Schedule, c.Spec.Backups.Verification, c.Spec.Backups.Objectives)
	}
}

// TestDRDrillUsage: bad flags are usage errors (exit 1), nothing runs.
func TestDRDrillUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"dr", "drill"}, "-f CLUSTER_FILE is required"},
		{[]string{"dr", "drill", "-f", "x.yaml", "-o", "yaml"}, "-o must be text, json or markdown"},
		{[]string{"dr", "drill", "-f", "x.yaml", "--namespace", "Bad_NS"}, `--namespace "Bad_NS"`},
	} {
		io, _, _, errOut := iostreams.Test()
		code := Run(context.Background(), &Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}, tt.args)
		if code != ExitError || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, want 1 with %q\n%s", tt.args, code, tt.want, errOut)
		}
	}
}

// TestDrillSecrets: the auth, storage, keyset and TLS Secrets are
// copied, each once; a TLS Secret a ClusterIssuer issues is not (the
// scratch namespace's Certificate gets its own), one of a namespaced
// Issuer is (the Issuer is not there).
func TestDrillSecrets(t *testing.T) {
	c := &clusterfile.Cluster{Metadata: clusterfile.Metadata{Name: "prod"}, Spec: clusterfile.Spec{
		Auth: clusterfile.Auth{SecretRef: &clusterfile.SecretKeyRef{Name: "auth"}},
		Backups: &clusterfile.Backups{Storage: clusterfile.BackupLocation{CredentialsSecret: "auth"},
			Encryption: clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "keyset"}}},
	}}
	for _, tc := range []struct {
		name string
		tls  *clusterfile.TLS
		want string
	}{
		{"no TLS", nil, "auth keyset"},
		{"secretName", &clusterfile.TLS{SecretName: "prod-certs"}, "auth keyset prod-certs"},
		{"Issuer", &clusterfile.TLS{CertManager: &clusterfile.CertManager{IssuerRef: clusterfile.IssuerRef{Name: "ca"}}}, "auth keyset prod-tls"},
		{"ClusterIssuer", &clusterfile.TLS{CertManager: &clusterfile.CertManager{IssuerRef: clusterfile.IssuerRef{Name: "le", Kind: "ClusterIssuer"}}}, "auth keyset"},
	} {
		c.Spec.TLS = tc.tls
		if got := strings.Join(drillSecrets(c), " "); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestScratchCertCheck: with Bolt verified, a certificate must cover the
// scratch namespace's server names; a wildcard over them passes, one for
// the cluster's own namespace is refused with the name to add; without
// the bolt scope or with verification skipped nothing is checked.
func TestScratchCertCheck(t *testing.T) {
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "q.yaml")
	if err := os.WriteFile(f, []byte(strings.Replace(string(b), "  servers: 3\n", "  servers: 3\n  tls:\n    secretName: q-tls\n    scopes: [bolt]\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := clusterfile.LoadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	wild := func(ns string) string {
		return "*." + manifests.HeadlessServiceName(c) + "." + ns + ".svc.cluster.local"
	}
	good, err := neo4jsim.NewTestPKI(wild("graphs"), wild("scratch"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := neo4jsim.NewTestPKI(wild("graphs"))
	if err != nil {
		t.Fatal(err)
	}
	check := scratchCertCheck(c, "scratch", false)
	if err := check("q-tls", good.CertPEM); err != nil {
		t.Errorf("a certificate covering the scratch names: %v", err)
	}
	err = check("q-tls", own.CertPEM)
	if err == nil || !strings.Contains(err.Error(), "Secret q-tls is not valid for "+manifests.PodDNSName(c, "scratch", manifests.MainPool, 0)) ||
		!strings.Contains(err.Error(), "add "+wild("scratch")) {
		t.Errorf("a certificate of the cluster's namespace only: %v", err)
	}
	if err := check("q-tls", []byte("not pem")); err == nil {
		t.Error("a tls.crt without a certificate passed")
	}
	if scratchCertCheck(c, "scratch", true) != nil {
		t.Error("checked with --neo4j-insecure-skip-tls-verify")
	}
	c.Spec.TLS.Scopes = []string{"cluster"}
	if scratchCertCheck(c, "scratch", false) != nil {
		t.Error("checked without the bolt scope")
	}
}

// TestRenderWatchDrillGroup: render --watch of a cluster file with
// spec.backups.drill.schedule carries the neo4jctl-dr-drill rule group
// and the drill dashboard row; without the schedule, neither.
func TestRenderWatchDrillGroup(t *testing.T) {
	b, err := os.ReadFile("../examples/backups.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := func(x any) string { return x.(interface{ String() string }).String() }
	for _, tc := range []struct {
		spec string
		want bool
	}{
		{strings.Replace(string(b), "    objectives:", "    drill:\n      schedule: \"0 5 * * 1\"\n    objectives:", 1), true},
		{string(b), false},
	} {
		f, io := testFactory()
		io.In = strings.NewReader(tc.spec)
		code := Run(context.Background(), f, []string{"render", "-f", "-", "--watch", "--watch-image", "example.com/neo4jctl:1.0.0"})
		got := out(io.Out)
		if code != ExitOK {
			t.Fatalf("render --watch: exit %d\n%s", code, out(io.ErrOut))
		}
		if strings.Contains(got, "name: neo4jctl-dr-drill") != tc.want || strings.Contains(got, "DR drills (records)") != tc.want {
			t.Errorf("drill schedule %v: group/row rendered %v", tc.want, !tc.want)
		}
	}
}
