package storage

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Versions of the servers; install.sh has the same defaults.
const (
	VersityGWVersion = "v1.8.0"
	FakeGCSVersion   = "v1.56.1"
	AzuriteVersion   = "3.35.0"
)

// Azurite's well-known development account (documented by Microsoft for the
// emulator; not a secret).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// ToolsDir is ${XDG_CACHE_HOME:-~/.cache}/neo4jctl/tools (or NEO4JCTL_TOOLS_DIR).
func ToolsDir() (string, error) {
	if d := os.Getenv("NEO4JCTL_TOOLS_DIR"); d != "" {
		return d, nil
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "neo4jctl", "tools"), nil
}

var installMu sync.Mutex

// Tool returns the path of a server's executable, running install.sh for it
// first when it is not in the cache. It skips the test under -short.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: %s (a real storage server) not started", name)
	}
	dir, err := ToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	var rel string
	switch name {
	case "versitygw":
		rel = filepath.Join("versitygw-"+VersityGWVersion, "versitygw")
	case "fake-gcs-server":
		rel = filepath.Join("fake-gcs-server-"+FakeGCSVersion, "fake-gcs-server")
	case "azurite":
		rel = filepath.Join("azurite-"+AzuriteVersion, "node_modules", ".bin", "azurite-blob")
	default:
		t.Fatalf("unknown storage tool %q", name)
	}
	path := filepath.Join(dir, rel)
	installMu.Lock()
	defer installMu.Unlock()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	script := installScript()
	t.Logf("%s not in %s: running %s %s (once; `make storage-tools` does the same)", name, dir, script, name)
	cmd := exec.Command(script, name)
	cmd.Env = append(os.Environ(), "NEO4JCTL_TOOLS_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install %s: %v\n%s", name, err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	return path
}

// Server is one running storage server.
type Server struct {
	Name     string
	Endpoint string // http://127.0.0.1:PORT
	Dir      string // its data directory
	cmd      *exec.Cmd
	logPath  string
	done     chan struct{}
}

// FreePort returns a loopback port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs bin with args, its output in a log file, and stops it (the
// whole process group) when the test ends.
func start(t testing.TB, name, dir, bin string, args []string, env []string, endpoint string, ready func() error) *Server {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	s := &Server{Name: name, Endpoint: endpoint, Dir: dir, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := ready()
		if err == nil {
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("%s exited before it was ready: %v\n%s", name, err, s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60s: %v\n%s", name, err, s.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the server's process group and waits for it.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// Log returns the tail of the server's output, for failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func httpReady(url string, ok func(int) bool) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if !ok(resp.StatusCode) {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// S3 is a running versitygw (posix backend) with one root user.
type S3 struct {
	*Server
	AccessKey, SecretKey, Region string
}

// StartS3 starts versitygw on a free port over a temporary directory. Its
// buckets are the directory's subdirectories, so CreateBucket is a mkdir.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin := Tool(t, "versitygw")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	s := &S3{AccessKey: "neo4jctl-test-access", SecretKey: "neo4jctl-test-secret-key", Region: "us-east-1"}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	args := []string{"--port", fmt.Sprintf("127.0.0.1:%d", port), "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", s.Region, "--health", "/health", "--quiet", "posix", data}
	s.Server = start(t, "versitygw", dir, bin, args, nil, endpoint, httpReady(endpoint+"/health", func(c int) bool { return c == 200 }))
	return s
}

// CreateBucket makes a bucket (a directory of the posix backend).
func (s *S3) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if err := os.Mkdir(filepath.Join(s.Dir, "data", name), 0o755); err != nil {
		t.Fatal(err)
	}
}

// URL is the storage URL of bucket/prefix on this server.
func (s *S3) URL(bucket, prefix string) string {
	return fmt.Sprintf("s3://%s/%s?region=%s&endpoint=%s", bucket, prefix, s.Region, s.Endpoint)
}

// GCS is a running fake-gcs-server.
type GCS struct{ *Server }

// StartGCS starts fake-gcs-server (HTTP, filesystem backend) on a free port.
func StartGCS(t testing.TB) *GCS {
	t.Helper()
	bin := Tool(t, "fake-gcs-server")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	args := []string{"-scheme", "http", "-host", "127.0.0.1", "-port", fmt.Sprint(port),
		"-backend", "filesystem", "-filesystem-root", data,
		"-public-host", fmt.Sprintf("127.0.0.1:%d", port), "-external-url", endpoint, "-log-level", "warn"}
	srv := start(t, "fake-gcs-server", dir, bin, args, nil, endpoint,
		httpReady(endpoint+"/storage/v1/b", func(c int) bool { return c == 200 }))
	return &GCS{srv}
}

// CreateBucket creates a bucket through the JSON API.
func (g *GCS) CreateBucket(t testing.TB, name string) {
	t.Helper()
	resp, err := http.Post(g.Endpoint+"/storage/v1/b?project=test", "application/json",
		bytes.NewBufferString(fmt.Sprintf(`{"name":%q}`, name)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("create GCS bucket %s: %s", name, resp.Status)
	}
}

// URL is the storage URL of bucket/prefix on this server.
func (g *GCS) URL(bucket, prefix string) string {
	return fmt.Sprintf("gs://%s/%s?endpoint=%s", bucket, prefix, g.Endpoint)
}

// Azure is a running Azurite blob service.
type Azure struct{ *Server }

// StartAzure starts Azurite's blob service on a free port.
func StartAzure(t testing.TB) *Azure {
	t.Helper()
	bin := Tool(t, "azurite")
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("Azurite needs node: %v", err)
	}
	dir := t.TempDir()
	port := FreePort(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d/%s", port, AzuriteAccount)
	args := []string{"--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--location", filepath.Join(dir, "data"),
		"--silent", "--skipApiVersionCheck", "--disableProductStyleUrl"}
	// Any HTTP answer means it listens (an unauthenticated GET is a 4xx).
	srv := start(t, "azurite", dir, bin, args, nil, endpoint, httpReady(endpoint+"?comp=list", func(int) bool { return true }))
	return &Azure{srv}
}

// URL is the storage URL of container/prefix on this server.
func (a *Azure) URL(container, prefix string) string {
	return fmt.Sprintf("azblob://%s/%s?account=%s&endpoint=%s", container, prefix, AzuriteAccount, a.Endpoint)
}

// CreateContainer creates a container with the emulator account's key.
func (a *Azure) CreateContainer(t testing.TB, name string) {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(AzuriteAccount, AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(a.Endpoint+"/"+name, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil {
		t.Fatalf("create Azure container %s: %v", name, err)
	}
}

// installScript is install.sh beside this file, or — in a test binary
// built with -trimpath (CI's, docs/ci.md), where this file's location is
// relative — e2e/storage/install.sh under the nearest directory above the
// working directory holding go.mod.
func installScript() string {
	if _, self, _, ok := runtime.Caller(0); ok && filepath.IsAbs(self) {
		return filepath.Join(filepath.Dir(self), "install.sh")
	}
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "e2e", "storage", "install.sh")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(wd, "install.sh")
		}
	}
}
