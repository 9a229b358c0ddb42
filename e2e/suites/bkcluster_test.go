package suites

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jreal"
	"github.com/neo4jctl/neo4jctl/e2e/storage"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestOfflineDumpRealCommunity is the real part of `backup create
// --offline`: the real Neo4j Community of the contract suite holds data
// written through Bolt; it is stopped; the dump Job's own neo4j-admin
// script (the init container's command of manifests.OfflineDumpJob, its
// Pod paths moved into temporary directories) runs the real neo4j-admin
// database dump on the server's store; the agent binary, with the Job's
// arguments, stores the dump in a real S3 server (versitygw); the server
// starts again on the same store and reads the data back; the dump is
// listed and downloaded identical. Left out: the Pod itself (the
// Kubernetes side is cmd's TestBackupCreateOfflineCommunity) and the lock
// sidecar, whose "held" file the test writes (backup/lock is tested on
// its own).
func TestOfflineDumpRealCommunity(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a real Neo4j, neo4j-admin and versitygw; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	const canary = "canary-Offl1ne-pw-7373"
	home := t.TempDir()
	srv := neo4jreal.StartT(t, neo4jreal.Options{Password: canary, Dir: home})
	if srv == nil {
		return
	}
	count := func(s *neo4jreal.Server) int64 {
		t.Helper()
		drv, err := neo4j.NewDriverWithContext(s.BoltURI, neo4j.BasicAuth("neo4j", s.Password, ""))
		if err != nil {
			t.Fatal(err)
		}
		defer drv.Close(ctx)
		res, err := neo4j.ExecuteQuery(ctx, drv, "MATCH (p:Person) RETURN count(p) AS n", nil, neo4j.EagerResultTransformer)
		if err != nil {
			t.Fatalf("read through Bolt: %v", err)
		}
		n, _ := res.Records[0].Get("n")
		return n.(int64)
	}
	drv, err := neo4j.NewDriverWithContext(srv.BoltURI, neo4j.BasicAuth("neo4j", canary, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := neo4j.ExecuteQuery(ctx, drv, "UNWIND range(1, 700) AS i CREATE (:Person {id: i})", nil, neo4j.EagerResultTransformer); err != nil {
		t.Fatalf("write through Bolt: %v", err)
	}
	_ = drv.Close(ctx)
	// The scale-down: the server stops.
	if err := srv.Shutdown(); err != nil {
		t.Fatal(err)
	}
	adm, err := srv.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := adm.InstallAdminScript(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	// The storage and the cluster file the dump Job's agent reads.
	s3 := storage.StartS3(t)
	s3.CreateBucket(t, "backups")
	b := newBackupRun(t, fmt.Sprintf("    storage: {url: %q, credentialsSecret: backup-s3}\n", s3.URL("backups", "graph")),
		filepath.Join(s3.Dir, "data", "backups"))
	b.secret("backup-s3", "AWS_ACCESS_KEY_ID", s3.AccessKey)
	b.secret("backup-s3", "AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	b.secretValues = append(b.secretValues, canary, canary+"-again")
	c, err := clusterfile.LoadFile(b.file)
	if err != nil {
		t.Fatal(err)
	}
	job, err := manifests.OfflineDumpJob(c, "graphs", []string{"neo4j"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	spec := job.Spec.Template.Spec
	admin, agent := spec.InitContainers[1], spec.Containers[0]

	// The Pod's paths, moved: the work volume, /tmp, and the data claim
	// mounted at the server's data directory.
	work := t.TempDir()
	tmp := t.TempDir()
	data := filepath.Join(srv.Home(), "data")
	if _, err := os.Stat(filepath.Join(data, "databases", "neo4j")); err != nil {
		t.Fatalf("the server's store is not under %s: %v", data, err)
	}
	script := strings.NewReplacer(manifests.BackupWorkDir, work, "/tmp/", tmp+"/", "server.directories.data=/data", "server.directories.data="+data).Replace(admin.Command[2])
	if err := os.WriteFile(filepath.Join(work, "lock.held"), []byte("test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, admin.Command[0], append([]string{admin.Command[1], script}, admin.Command[3:]...)...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(inst, "bin")+":"+os.Getenv("PATH"), "NEO4J_HOME="+srv.Home())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the dump Job's neo4j-admin script: %v\n%s", err, out)
	}
	dump := filepath.Join(work, "dumps", "neo4j.dump")
	if _, err := os.Stat(dump); err != nil {
		t.Fatalf("no dump written: %v\n%s", err, out)
	}

	// The agent container, with its arguments (cluster file and dumps
	// directory moved).
	args := strings.Join(agent.Args, "\x00")
	args = strings.NewReplacer(manifests.BackupClusterFileDir+"/cluster.yaml", b.file, manifests.BackupDumpsDir, filepath.Join(work, "dumps")).Replace(args)
	r := b.ok(strings.Split(args, "\x00")...)
	for _, step := range []string{"upload neo4j.dump", "verified ", "catalogued ", "done: 1 stored"} {
		if !strings.Contains(r.stderr, step) {
			t.Errorf("agent log lacks %q:\n%s", step, r)
		}
	}

	// The scale-back: the server starts again on the same store. (The
	// contract suite's launcher sets the neo4j user's password at every
	// start and refuses the same one again: the second start gets another.)
	again := neo4jreal.StartT(t, neo4jreal.Options{Password: canary + "-again", Dir: home})
	if again == nil {
		t.Fatal("the server did not start again")
	}
	if n := count(again); n != 700 {
		t.Errorf("after the offline dump the server reads %d Person nodes, want 700", n)
	}

	l := b.list()
	if len(l.Backups) != 1 || l.Backups[0].Type != "FULL" || l.Backups[0].Format != "dump" || l.Backups[0].Database != "neo4j" {
		t.Fatalf("list: %+v, want one FULL dump of neo4j", l.Backups)
	}
	got := filepath.Join(b.dir, "got.dump")
	b.ok("backup", "download", l.Backups[0].ID, "-o", got, "-f", b.file)
	if fileDigest(t, got) != fileDigest(t, dump) {
		t.Errorf("the downloaded dump differs from the one neo4j-admin wrote")
	}
	b.scanSecrets()
}
