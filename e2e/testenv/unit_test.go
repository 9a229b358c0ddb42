package testenv

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseStatState(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want byte
	}{
		{name: "running", stat: "123 (etcd) R 1 123 123 0 -1", want: 'R'},
		{name: "zombie", stat: "123 (kube-apiserver) Z 1 123", want: 'Z'},
		{name: "name with paren and space", stat: "7 (a) b) S 1 7", want: 'S'},
		{name: "truncated", stat: "7 (a)", want: 0},
		{name: "garbage", stat: "", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseStatState([]byte(tt.stat)); got != tt.want {
				t.Errorf("parseStatState(%q) = %q, want %q", tt.stat, got, tt.want)
			}
		})
	}
}

func TestNamespacePrefix(t *testing.T) {
	tests := []struct {
		name, test, want string
	}{
		{name: "subtest", test: "TestApply/scale_out", want: "testapply-scale-out-"},
		{name: "only symbols", test: "///", want: "test-"},
		{name: "long", test: strings.Repeat("Abc_", 20), want: "abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := namespacePrefix(tt.test)
			if got != tt.want {
				t.Errorf("namespacePrefix(%q) = %q, want %q", tt.test, got, tt.want)
			}
			// GenerateName adds 5 characters; names are DNS labels (≤ 63).
			if len(got)+5 > 63 {
				t.Errorf("namespacePrefix(%q) is %d long: too long for a namespace", tt.test, len(got))
			}
		})
	}
}

func TestHostPathDirs(t *testing.T) {
	pv := func(path string) corev1.PersistentVolume {
		return corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: path},
			Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: path},
			}},
		}
	}
	nfs := corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{
		NFS: &corev1.NFSVolumeSource{Server: "x", Path: "/tmp/hostpath_pv/nfs"},
	}}}
	got := hostPathDirs([]corev1.PersistentVolume{
		pv("/tmp/hostpath_pv/b-uuid"),
		pv("/tmp/hostpath_pv/a-uuid"),
		pv("/tmp/hostpath_pv"),               // the shared parent: never
		pv("/tmp/hostpath_pv/../etc"),        // escapes after Clean
		pv("/tmp/hostpath_pv/a-uuid/nested"), // not a provisioner directory
		pv("/data/mine"),                     // a test's own PV
		nfs,
	})
	want := []string{"/tmp/hostpath_pv/a-uuid", "/tmp/hostpath_pv/b-uuid"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hostPathDirs() mismatch (-want +got):\n%s", diff)
	}
}

func TestForwardsPort(t *testing.T) {
	tests := []struct {
		name string
		f    any
		want bool
	}{
		{name: "int64 match", f: map[string]any{"ports": []any{int64(7687)}}, want: true},
		{name: "float64 match", f: map[string]any{"ports": []any{float64(7687)}}, want: true},
		{name: "other port", f: map[string]any{"ports": []any{int64(7474)}}, want: false},
		{name: "several ports", f: map[string]any{"ports": []any{int64(7687), int64(7474)}}, want: false},
		{name: "all ports", f: map[string]any{}, want: false},
		{name: "not a map", f: "x", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := forwardsPort(tt.f, 7687); got != tt.want {
				t.Errorf("forwardsPort(%v, 7687) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func TestSplitYAMLDocuments(t *testing.T) {
	in := "---\na: 1\n---\n\n--- \nb: 2\nc: '---'\n"
	var got []string
	for _, d := range splitYAMLDocuments([]byte(in)) {
		got = append(got, strings.TrimSpace(string(d)))
	}
	want := []string{"a: 1", "b: 2\nc: '---'"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("splitYAMLDocuments mismatch (-want +got):\n%s", diff)
	}
}

func TestWritePKI(t *testing.T) {
	p, err := writePKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(p.caPEM) {
		t.Fatal("CA PEM does not parse")
	}
	serving := readCert(t, p.ServingCert)
	for _, host := range []string{"127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"} {
		if _, err := serving.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("serving certificate for %s: %v", host, err)
		}
	}
	if _, err := serving.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: roots}); err == nil {
		t.Error("serving certificate verified for example.com, want an error")
	}
	admin := readCert(t, p.AdminCert)
	if _, err := admin.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate: %v", err)
	}
	if diff := cmp.Diff([]string{"system:masters"}, admin.Subject.Organization); diff != "" {
		t.Errorf("admin organization mismatch (-want +got):\n%s", diff)
	}
	for _, f := range []string{p.SAKey, p.SAPub, p.ServingKey, p.AdminKey, p.CAKey} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if blk, _ := pem.Decode(b); blk == nil {
			t.Errorf("%s: not PEM", f)
		}
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: not PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sleepBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	p, err = filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProcessStop(t *testing.T) {
	sleep := sleepBinary(t)
	p, err := startProcess("sleep", sleep, []string{"60"}, filepath.Join(t.TempDir(), "sleep.log"), false)
	if err != nil {
		t.Fatal(err)
	}
	if !p.alive() {
		t.Fatal("alive() = false right after start, want true")
	}
	begin := time.Now()
	if err := p.stop(stopGrace); err != nil {
		t.Fatal(err)
	}
	if p.alive() {
		t.Error("alive() = true after stop, want false")
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("stop took %s, want a prompt exit on SIGTERM", d)
	}
}

// A recorded PID now running another program (PIDs are reused) must not be
// signalled.
func TestProcessStopLeavesReusedPID(t *testing.T) {
	sleep := sleepBinary(t)
	cmd := exec.Command(sleep, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	stale := &component{Name: "etcd", PID: cmd.Process.Pid, Exe: "/nonexistent/etcd"}
	if stale.alive() {
		t.Fatal("alive() = true for a PID running another binary, want false")
	}
	if err := stale.stop(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the unrelated process was signalled: %v", err)
	}
}

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	if err := os.WriteFile(path, []byte("1\n2\n3\n4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := logTail(path, 2), "3\n4"; got != want {
		t.Errorf("logTail = %q, want %q", got, want)
	}
}

// A component that dies during start fails Start (after its one retry) with
// the tail of that component's log, without needing the real binaries.
func TestStartReportsComponentLog(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	for _, d := range []string{bin, filepath.Join(root, "crds"), filepath.Join(root, "kwok", "crd")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range kwokStageFiles {
		p := filepath.Join(root, "kwok", "stage", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("kind: Stage\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\necho 'listen tcp 127.0.0.1:2379: bind: address already in use' >&2\nexit 1\n"
	for _, b := range binaries {
		if err := os.WriteFile(filepath.Join(bin, b), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "env")
	_, err := Start(t.Context(), Options{BinDir: bin, Dir: dir})
	if err == nil {
		t.Fatal("Start with a failing etcd: got nil error")
	}
	for _, want := range []string{"etcd exited", "address already in use", "first attempt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error = %q, want it to contain %q", err, want)
		}
	}
}

func TestStartMissingBinaries(t *testing.T) {
	_, err := Start(t.Context(), Options{BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "build.sh") {
		t.Errorf("Start without binaries: got %v, want an error naming build.sh", err)
	}
}
