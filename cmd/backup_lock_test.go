package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/lock"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

// TestBackupLockHoldsUntilStopped runs the backup Pods' lock holder as a
// process would, against a real file:// bucket: it writes lock.held and
// holds; a second run of the same database writes lock.refused naming
// the first; stopping the first releases the lock.
func TestBackupLockHoldsUntilStopped(t *testing.T) {
	dir := t.TempDir()
	bucket := filepath.Join(dir, "bucket")
	if err := os.MkdirAll(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "cluster.yaml")
	b, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(backupsSpec, "url: s3://acme-backups/quickstart?region=eu-west-1\n      credentialsSecret: bk-creds", "url: file://"+bucket, 1)
	if err := os.WriteFile(file, append(b, spec...), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context, state string) (chan int, *strings.Builder) {
		if err := os.MkdirAll(state, 0o755); err != nil {
			t.Fatal(err)
		}
		io, _, _, errOut := iostreams.Test()
		done := make(chan int, 1)
		log := &strings.Builder{}
		go func() {
			f := &Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}
			code := Run(ctx, f, []string{"backup", "lock", "-f", file, "--database", "neo4j", "--state-dir", state, "--ttl", "1h"})
			log.WriteString(errOut.String())
			done <- code
		}()
		return done, log
	}
	waitFile := func(p string) string {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if b, err := os.ReadFile(p); err == nil {
				return string(b)
			}
		}
		t.Fatalf("%s not written", p)
		return ""
	}

	ctx1, stop1 := context.WithCancel(context.Background())
	done1, log1 := run(ctx1, filepath.Join(dir, "pod1"))
	waitFile(filepath.Join(dir, "pod1", "lock.held"))

	ctx2, stop2 := context.WithCancel(context.Background())
	done2, _ := run(ctx2, filepath.Join(dir, "pod2"))
	refused := waitFile(filepath.Join(dir, "pod2", "lock.refused"))
	if !strings.Contains(refused, "already running") {
		t.Errorf("lock.refused: %q", refused)
	}
	if _, err := os.Stat(filepath.Join(dir, "pod2", "lock.held")); err == nil {
		t.Error("the refused run also wrote lock.held")
	}
	stop2()
	<-done2

	stop1()
	<-done1
	if !strings.Contains(log1.String(), "released neo4j") {
		t.Errorf("first run's log lacks the release:\n%s", log1)
	}
	bk, err := blob.Open(context.Background(), "file://"+bucket, blob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bk.Close()
	if _, err := lock.Acquire(context.Background(), lock.OverBucket(bk, "next"), "quickstart", "neo4j", time.Hour); err != nil {
		t.Errorf("after the holder stopped: %v, want the lock free", err)
	}
}
