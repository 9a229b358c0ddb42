package testenv

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Environment variables read by Shared.
const (
	// EnvKubeconfig names the admin kubeconfig of an environment started
	// by `testenv up`; when set, Shared attaches to it instead of starting
	// one, so all packages of a `go test ./...` run share one control plane.
	EnvKubeconfig = "NEO4JCTL_TESTENV_KUBECONFIG"
	// EnvBuild set to "1" lets Shared run build.sh (≈ 9 min cold) when the
	// binaries are missing; otherwise such tests are skipped.
	EnvBuild = "NEO4JCTL_TESTENV_BUILD"
)

var shared struct {
	once    sync.Once
	env     *Env
	started bool // this process started env, so Main stops it
	skip    string
	err     error
}

// Shared returns the control plane of this test process, starting it on
// first use. Tests are skipped under -short, and when the binaries are
// missing and NEO4JCTL_TESTENV_BUILD is not "1". Packages that call Shared
// must call Main from TestMain so the environment is stopped.
func Shared(t testing.TB) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the test control plane (skipped with -short)")
	}
	shared.once.Do(startShared)
	if shared.skip != "" {
		t.Skip(shared.skip)
	}
	if shared.err != nil {
		t.Fatalf("test control plane: %v", shared.err)
	}
	return shared.env
}

// skipReason says why integration tests cannot run here, "" if they can:
// under -short, or when the binaries are missing and building them was not
// asked for.
func skipReason() string {
	if testing.Short() {
		return "integration test: needs the test control plane (skipped with -short)"
	}
	if os.Getenv(EnvBuild) != "1" {
		if missing := missingFiles(DefaultBinDir()); len(missing) > 0 {
			return fmt.Sprintf("test control plane not built (%s missing in %s): run e2e/testenv/build.sh or set %s=1",
				strings.Join(missing, ", "), DefaultBinDir(), EnvBuild)
		}
	}
	return ""
}

// SkipWithoutBinaries skips the test under -short, and when the binaries
// are missing and NEO4JCTL_TESTENV_BUILD is not "1". Private calls it;
// Shared applies the same rules unless it attaches to a running env.
func SkipWithoutBinaries(t testing.TB) {
	t.Helper()
	if r := skipReason(); r != "" {
		t.Skip(r)
	}
}

// Private starts an environment for this test alone and stops it at
// cleanup — for fault tests (RestartAPIServer) that must not disturb the
// shared one. It costs a start (≈ 5 s) and ≈ 650 MiB while it runs.
func Private(t testing.TB, opts Options) *Env {
	t.Helper()
	SkipWithoutBinaries(t)
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	opts.Build = opts.Build || os.Getenv(EnvBuild) == "1"
	env, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start test control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop test control plane: %v", err)
		}
	})
	return env
}

func startShared() {
	if kc := os.Getenv(EnvKubeconfig); kc != "" {
		shared.env, shared.err = Attach(kc)
		return
	}
	if shared.skip = skipReason(); shared.skip != "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	shared.env, shared.err = Start(ctx, Options{
		Build: os.Getenv(EnvBuild) == "1",
		Logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, format+"\n", args...)
		},
	})
	shared.started = shared.err == nil
}

// Main runs the tests and then stops the environment Shared started, if
// any. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.started {
		if err := shared.env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stop: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

var nonDNS = regexp.MustCompile(`[^a-z0-9]+`)

// namespacePrefix turns a test name into the start of a namespace name:
// lower case, runs of other characters as '-', short enough to leave room
// for the random suffix within the 63-character limit.
func namespacePrefix(testName string) string {
	p := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(testName), "-"), "-")
	if len(p) > 40 {
		p = strings.TrimRight(p[:40], "-")
	}
	if p == "" {
		p = "test"
	}
	return p + "-"
}

// Namespace creates a namespace named after the test (plus a random
// suffix) and deletes it when the test ends. It returns once the
// namespace's default ServiceAccount exists, since Pods cannot be created
// before that.
func Namespace(t testing.TB, env *Env) string {
	t.Helper()
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: namespacePrefix(t.Name()),
			Labels:       map[string]string{"neo4jctl.io/testenv": "true"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		// Not waiting: namespace deletion takes ≈ 5 s and the name is unique.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	for {
		_, err := cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return ns.Name
		}
		if !apierrors.IsNotFound(err) {
			t.Fatalf("namespace %s: default ServiceAccount: %v", ns.Name, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("namespace %s: default ServiceAccount not created: %v", ns.Name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
