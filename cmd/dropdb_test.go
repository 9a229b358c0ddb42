package cmd

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// TestDropDatabaseNeedsItsName: a database removed from the cluster file
// is reported as unmanaged and never dropped; state: absent plans an
// irreversible DROP DATABASE that apply runs only with the database's name
// (--confirm-drop without a terminal), never on --auto-approve alone.
func TestDropDatabaseNeedsItsName(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test control plane and the simulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f := newDriftFixture(t, ctx)
	kc := f.env.Kubeconfig
	src, err := os.ReadFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := os.WriteFile(f.file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hasMovies := func() bool {
		found := false
		f.neo4jAdmin(ctx, func(c *neo4j.Client) error {
			dbs, err := c.Databases(ctx)
			for _, d := range dbs {
				found = found || d.Name == "movies"
			}
			return err
		})
		return found
	}
	if !hasMovies() {
		t.Fatal("apply did not create movies")
	}

	// Removed from the file: unmanaged, apply leaves it.
	i := strings.Index(string(src), "  databases:")
	write(string(src)[:i])
	code, out, errOut := f.run(kc, "plan", "-f", f.file, "--neo4j-password-file", f.pwFile)
	if code != ExitOK || !strings.Contains(out+errOut, "neo4j:database/movies exists but is not in the cluster file: it is unmanaged") || strings.Contains(out, "drop-database") {
		t.Errorf("plan with movies removed: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := f.run(kc, "apply", "-f", f.file, "--auto-approve", "--neo4j-password-file", f.pwFile); code != ExitOK {
		t.Fatalf("apply with movies removed: exit %d\n%s\n%s", code, out, errOut)
	}
	if !hasMovies() {
		t.Fatal("apply dropped a database merely removed from the cluster file")
	}

	// state: absent.
	write(strings.Replace(string(src), "        primaries: 3", "        primaries: 3\n      state: absent", 1))
	code, out, errOut = f.run(kc, "plan", "-f", f.file, "--neo4j-password-file", f.pwFile)
	if code != ExitOK || !strings.Contains(out, "neo4j:database/movies") || !strings.Contains(out, "1 to destroy") || !strings.Contains(out, "1 irreversible") {
		t.Errorf("plan with state: absent: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = f.run(kc, "apply", "-f", f.file, "--auto-approve", "--neo4j-password-file", f.pwFile)
	if code != ExitError || !strings.Contains(errOut, "--confirm-drop movies") {
		t.Errorf("apply --auto-approve of a drop: exit %d, want a refusal naming --confirm-drop movies:\n%s", code, errOut)
	}
	if code, _, errOut = f.run(kc, "apply", "-f", f.file, "--auto-approve", "--confirm-drop", "neo4j", "--neo4j-password-file", f.pwFile); code != ExitError {
		t.Errorf("apply --confirm-drop of another name: exit %d\n%s", code, errOut)
	}
	if !hasMovies() {
		t.Fatal("movies was dropped without its name")
	}
	if code, out, errOut := f.run(kc, "apply", "-f", f.file, "--auto-approve", "--confirm-drop", "movies", "--neo4j-password-file", f.pwFile); code != ExitOK {
		t.Fatalf("apply --confirm-drop movies: exit %d\n%s\n%s", code, out, errOut)
	}
	if hasMovies() {
		t.Error("movies survived apply --confirm-drop movies")
	}
	// Converged: nothing left to drop.
	if code, out, errOut := f.run(kc, "plan", "-f", f.file, "--neo4j-password-file", f.pwFile, "--detailed-exitcode"); code != ExitOK {
		t.Errorf("plan after the drop: exit %d\n%s\n%s", code, out, errOut)
	}
}
