package suites

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/restore"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
	"github.com/neo4jctl/neo4jctl/e2e/storage"
)

// TestRestoreCommunityRealRoundTrip is the Community restore end to end
// with every data-path part real: data written through Bolt into the real
// Neo4j Community, the server stopped, dumped by the real neo4j-admin,
// stored by the agent binary in a real S3 server (versitygw), more data
// written afterwards (which the restore must discard), the server stopped
// again; then the load Job's two steps run as the Job runs them — the
// built binary's fetch (restore.FetchArgs: download, decrypt,
// authenticate, digests) and the real `neo4j-admin database load
// --overwrite-destination` (restore.LoadArgs) into the stopped server's
// store — and a real Neo4j started on that store answers with the data of
// the dump, not the later data. On the control plane the Job's Pod is
// completed by kwok (cmd's TestRestoreCommunityRefusedThenInterrupted…);
// here its containers' commands run for real.
//
// A corrupted artifact (one bit flipped at rest, served by a proxy in
// front of the S3 server) fails the fetch loudly — authentication fails,
// no dump is written, so the load never runs — and the server's store is
// left as it was.
func TestRestoreCommunityRealRoundTrip(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a real Neo4j, neo4j-admin and versitygw; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	const canary = "canary-R3store-pw-8282"
	srv := neo4jreal.StartT(t, neo4jreal.Options{Password: canary})
	if srv == nil {
		return
	}
	write := func(s *neo4jreal.Server, cypher string) {
		t.Helper()
		drv, err := neo4j.NewDriverWithContext(s.BoltURI, neo4j.BasicAuth("neo4j", s.Password, ""))
		if err != nil {
			t.Fatal(err)
		}
		defer drv.Close(ctx)
		if _, err := neo4j.ExecuteQuery(ctx, drv, cypher, nil, neo4j.EagerResultTransformer); err != nil {
			t.Fatalf("write through Bolt: %v", err)
		}
	}
	count := func(s *neo4jreal.Server, label string) int64 {
		t.Helper()
		drv, err := neo4j.NewDriverWithContext(s.BoltURI, neo4j.BasicAuth("neo4j", s.Password, ""))
		if err != nil {
			t.Fatal(err)
		}
		defer drv.Close(ctx)
		res, err := neo4j.ExecuteQuery(ctx, drv, fmt.Sprintf("MATCH (n:%s) RETURN count(n) AS c, sum(n.id) AS s", label), nil, neo4j.EagerResultTransformer)
		if err != nil {
			t.Fatalf("read through Bolt: %v", err)
		}
		c, _ := res.Records[0].Get("c")
		return c.(int64)
	}
	write(srv, "UNWIND range(1, 300) AS i CREATE (:Person {id: i, name: 'p' + i})-[:KNOWS]->(:Pet {id: i})")
	if err := srv.Shutdown(); err != nil {
		t.Fatal(err)
	}
	adm, err := srv.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dumps := t.TempDir()
	if _, err := adm.Dump(ctx, "neo4j", dumps); err != nil {
		t.Fatalf("neo4j-admin database dump: %v", err)
	}

	// Written after the backup: the restore discards it.
	// Each start on an existing store sets its own password (the launcher
	// refuses to set the one the store already has).
	later := neo4jreal.StartT(t, neo4jreal.Options{Dir: srv.Dir, Password: canary + "-2"})
	write(later, "UNWIND range(1, 50) AS i CREATE (:After {id: i})")
	if n := count(later, "After"); n != 50 {
		t.Fatalf("before the restore: %d :After nodes, want 50", n)
	}
	if err := later.Shutdown(); err != nil {
		t.Fatal(err)
	}

	s3 := storage.StartS3(t)
	s3.CreateBucket(t, "backups")
	proxy := storage.NewProxy(t, s3.Endpoint)
	b := newBackupRun(t, fmt.Sprintf("    storage: {url: \"s3://backups/prod?region=%s&endpoint=%s\", credentialsSecret: backup-s3}\n", s3.Region, proxy.URL),
		filepath.Join(s3.Dir, "data", "backups"))
	b.secret("backup-s3", "AWS_ACCESS_KEY_ID", s3.AccessKey)
	b.secret("backup-s3", "AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	b.secretValues = append(b.secretValues, canary)
	b.ok("backup", "agent", "-f", b.file, "--from-dir", dumps)
	l := b.list()
	if len(l.Backups) != 1 || l.Backups[0].Format != "dump" {
		t.Fatalf("list: %+v, want one dump", l.Backups)
	}
	// The point restore --latest chooses from this catalogue.
	p, err := restore.Select([]catalog.Entry{{ID: l.Backups[0].ID, Cluster: "graph", Database: "neo4j", Type: catalog.Full,
		Format: "dump", File: "neo4j.dump", Created: l.Backups[0].Created, ChainID: l.Backups[0].ID}},
		restore.Request{Cluster: "graph", Database: "neo4j", Latest: true})
	if err != nil {
		t.Fatal(err)
	}
	target := p.Target()

	// The load Job's fetch container, run by the built binary.
	adminConf := filepath.Join(t.TempDir(), "admin.conf")
	if err := os.WriteFile(adminConf, []byte("server.directories.data="+filepath.Join(srv.Home(), "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fetch := func(work string) result {
		t.Helper()
		if err := os.MkdirAll(work, 0o700); err != nil {
			t.Fatal(err)
		}
		r := run(t, []string{"NO_COLOR=1"}, binary, restore.FetchArgs(target, filepath.Join(work, "neo4j.dump"), b.file, b.secrets)...)
		b.outputs = append(b.outputs, r.stdout, r.stderr)
		return r
	}

	// A corrupted artifact first: one bit flipped in what the bucket
	// serves. The fetch fails loudly, writes nothing, and the store is
	// untouched (the load never runs).
	rule := proxy.Add(storage.Rule{Match: func(r *http.Request) bool {
		return storage.IsGet(r) && strings.Contains(r.URL.Path, "/artifacts/")
	}, Times: 1000, Fault: storage.Fault{Corrupt: true}})
	bad := filepath.Join(t.TempDir(), "work")
	r := fetch(bad)
	if r.code == 0 || proxy.Hits(rule) == 0 {
		t.Fatalf("fetch of a corrupted artifact: exit %d after %d corrupted reads, want a failure\n%s", r.code, proxy.Hits(rule), r)
	}
	if left, _ := os.ReadDir(bad); len(left) != 0 {
		t.Errorf("a failed fetch left %d files (first %s): plaintext of an unauthenticated artifact", len(left), left[0].Name())
	}
	t.Logf("corrupted artifact: %s", lastNonEmpty(r.stderr))
	proxy.Clear()

	work := filepath.Join(t.TempDir(), "work")
	if r := fetch(work); r.code != 0 {
		t.Fatalf("fetch: %s", r)
	}
	// The load Job's load container: the real neo4j-admin, into the
	// stopped server's store.
	t0 := time.Now()
	if _, err := adm.Run(ctx, restore.LoadArgs("neo4j", work, adminConf)...); err != nil {
		t.Fatalf("neo4j-admin %s: %v", strings.Join(restore.LoadArgs("neo4j", work, adminConf), " "), err)
	}
	t.Logf("FIGURE: neo4j-admin database load of the restored dump took %s", time.Since(t0).Round(time.Millisecond))

	restored := neo4jreal.StartT(t, neo4jreal.Options{Dir: srv.Dir, Password: canary + "-3"})
	if n := count(restored, "Person"); n != 300 {
		t.Errorf("after the restore: %d :Person nodes, want the dump's 300", n)
	}
	if n := count(restored, "Pet"); n != 300 {
		t.Errorf("after the restore: %d :Pet nodes, want 300", n)
	}
	if n := count(restored, "After"); n != 0 {
		t.Errorf("after the restore: %d :After nodes written after the backup, want 0 (the restore replaces the store)", n)
	}
	b.scanSecrets()
}

func lastNonEmpty(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}
