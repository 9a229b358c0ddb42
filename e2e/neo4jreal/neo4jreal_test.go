package neo4jreal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

func TestStartServesBoltWithPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM; skipped with -short")
	}
	s := StartT(t, Options{Password: "contract-secret-1"})
	t.Logf("real Neo4j %s %s at %s (launcher cached=%v, build/lookup %s, start %s)",
		s.Version, s.Edition, s.BoltURI, !s.Launcher.Built, s.Launcher.Duration, s.StartDuration)
	if got, want := s.Edition, "community"; got != want {
		t.Errorf("edition: got %q, want %q", got, want)
	}
	if !strings.HasPrefix(s.Version, "5.26.") {
		t.Errorf("version: got %q, want 5.26.x", s.Version)
	}
	if !strings.HasPrefix(s.BoltURI, "bolt://127.0.0.1:") {
		t.Errorf("BoltURI: got %q, want bolt://127.0.0.1:PORT", s.BoltURI)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := neo4j.NewDriverWithContext(s.BoltURI, neo4j.BasicAuth(s.User, s.Password, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	res, err := neo4j.ExecuteQuery(ctx, d, "RETURN 1 AS one", nil, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatalf("RETURN 1 with the right password: %v", err)
	}
	if got := res.Records[0].Values; !cmp.Equal(got, []any{int64(1)}) {
		t.Errorf("RETURN 1: got %v, want [1]", got)
	}

	bad, err := neo4j.NewDriverWithContext(s.BoltURI, neo4j.BasicAuth(s.User, "wrong-password", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close(ctx)
	if err := bad.VerifyConnectivity(ctx); err == nil {
		t.Error("login with a wrong password succeeded; auth must be enabled")
	}

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if s.Running() {
		t.Error("server still running after Stop")
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary home %s still exists after Stop (err %v)", s.Dir, err)
	}
}

func TestFindJavaSkipsUnsupportedVersions(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "java")
	script := "#!/bin/sh\necho 'openjdk version \"25.0.1\" 2025-10-21' >&2\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// Only the fake is a candidate: no JAVA_HOME, no PATH java. /usr/lib/jvm
	// may still offer a real 17, which must then win over the fake 25.
	t.Setenv("JAVA_HOME", "")
	t.Setenv("NEO4JREAL_JAVA", "")
	t.Setenv("PATH", dir+"-empty")
	j, err := FindJava(context.Background(), fake)
	var u *UnavailableError
	switch {
	case err == nil:
		if j.Major == 25 || j.Path == fake {
			t.Errorf("FindJava picked unsupported %+v", j)
		}
	case errors.As(err, &u):
		if !strings.Contains(u.Missing, "java 25 at "+fake) {
			t.Errorf("Missing: got %q, want it to name java 25 at %s", u.Missing, fake)
		}
	default:
		t.Fatalf("FindJava: got %v, want a JDK or an *UnavailableError", err)
	}
}

func TestMavenOfflineClassification(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		offline bool
	}{
		{"dns", "[ERROR] ... java.net.UnknownHostException: repo.example", true},
		{"transfer", "Could not transfer artifact org.neo4j:neo4j:pom:5.26.30 from/to central", true},
		{"compile error", "[ERROR] COMPILATION ERROR : cannot find symbol", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mavenOffline(tt.out) != ""; got != tt.offline {
				t.Errorf("mavenOffline(%q): got offline=%v, want %v", tt.out, got, tt.offline)
			}
		})
	}
}

func TestSkipMessageNamesWhatIsMissing(t *testing.T) {
	got := SkipMessage(&UnavailableError{Missing: "mvn (Apache Maven) on PATH"})
	if !strings.HasPrefix(got, "SKIP: ") || !strings.Contains(got, "mvn (Apache Maven) on PATH") {
		t.Errorf("SkipMessage: got %q, want a line starting SKIP: naming mvn", got)
	}
}
