package suites

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/storage"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestRestorexFromACopyIntoAnotherCluster is a disaster recovery through
// the built binary: the backups of cluster graph (a cluster file only —
// its namespace never exists on this control plane, as after losing its
// region) are restored from their copy bucket into another cluster, the
// quickstart in a fresh namespace, as a new database.
//
// Real: versitygw holding the primary bucket (behind a fault-injecting
// proxy) and the copy bucket, the agent storing an artifact and copying
// it digest-checked, the catalogue, the plan, the apply Lease, the seed
// Pod, Service, NetworkPolicy and ConfigMap created in the target's
// namespace, the statements over Bolt, the wait, the cleanup. Simulated:
// kwok makes the seed Pod Ready without running its containers and the
// simulator reads the seed URL as readable when that Pod is Ready behind
// its Service; so this test then runs the seed Pod's fetch containers
// itself — their exact arguments, with the ConfigMap the restore created
// as their /restore/conf and only the Secrets the Pod mounts — by the
// built binary, as the container would, while every request to the
// primary bucket fails: the artifact comes from the copy, decrypted and
// digest-checked, byte for byte the one stored. The copy corrupted at
// rest fails the fetch loudly and writes nothing.
func TestRestorexFromACopyIntoAnotherCluster(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts versitygw and the control plane; skipped with -short")
	}
	env := testenv.Shared(t)
	s3 := storage.StartS3(t)
	s3.CreateBucket(t, "backups")
	s3.CreateBucket(t, "copies")
	primary := storage.NewProxy(t, s3.Endpoint)
	data := filepath.Join(s3.Dir, "data")
	b := newBackupRun(t, fmt.Sprintf(`    storage: {url: "s3://backups/prod?region=%s&endpoint=%s", credentialsSecret: backup-s3}
    copies: [{url: "%s", credentialsSecret: copy-s3}]
`, s3.Region, primary.URL, s3.URL("copies", "prod")), filepath.Join(data, "backups"), filepath.Join(data, "copies"))
	for _, name := range []string{"backup-s3", "copy-s3"} {
		b.secret(name, "AWS_ACCESS_KEY_ID", s3.AccessKey)
		b.secret(name, "AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	}
	from := filepath.Join(b.dir, "from")
	if err := os.Mkdir(from, 0o755); err != nil {
		t.Fatal(err)
	}
	art := make([]byte, 3<<20+5)
	_, _ = rand.NewChaCha8([32]byte{16}).Read(art)
	dump := filepath.Join(from, "neo4j.dump")
	if err := os.WriteFile(dump, art, 0o644); err != nil {
		t.Fatal(err)
	}
	b.ok("backup", "agent", "-f", b.file, "--from-dir", from)
	l := b.list()
	if len(l.Backups) != 1 || len(l.Backups[0].Copies) != 1 {
		t.Fatalf("list: %+v, want one backup with one copy", l.Backups)
	}
	id := l.Backups[0].ID

	// The target: the quickstart applied in its own namespace, with the
	// Secrets a DR runbook provides there: the keyset and the copy's
	// credentials — not the primary bucket's.
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	keyset, err := os.ReadFile(b.keyset)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]map[string][]byte{
		"backup-keyset": {"keyset.json": keyset},
		"copy-s3":       {"AWS_ACCESS_KEY_ID": []byte(s3.AccessKey), "AWS_SECRET_ACCESS_KEY": []byte(s3.SecretKey)},
	} {
		if _, err := cs.CoreV1().Secrets(c.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: d}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	c.sim.SetSeedReader(func(ctx context.Context, uri string) error {
		host := strings.TrimPrefix(uri, "http://")
		name := host[:strings.Index(host, ".")]
		if _, err := cs.CoreV1().Services(c.ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return err
		}
		pod, err := cs.CoreV1().Pods(c.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !podReady(pod) {
			return fmt.Errorf("pod %s not ready", name)
		}
		return nil
	})

	// The seed Pod and its ConfigMap as the API server holds them.
	var mu sync.Mutex
	var pod *corev1.Pod
	var conf map[string]string
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=neo4jctl-restore"}
		for watchCtx.Err() == nil {
			pods, err := cs.CoreV1().Pods(c.ns).List(watchCtx, sel)
			cms, err2 := cs.CoreV1().ConfigMaps(c.ns).List(watchCtx, sel)
			if err == nil && err2 == nil && len(pods.Items) > 0 && len(cms.Items) > 0 {
				mu.Lock()
				pod, conf = pods.Items[0].DeepCopy(), cms.Items[0].Data
				mu.Unlock()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	mark := auditMark(t, env)
	r := c.neo4jctl("restore", "-f", c.file, "--from-cluster", b.file, "--from-copy", s3.Region,
		"--database", "neo4j", "--latest", "--as", "neo4j-dr", "--auto-approve", "--secrets-dir", b.secrets)
	b.outputs = append(b.outputs, r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("restore from the copy into another cluster:\n%s", r)
	}
	for _, want := range []string{
		"Target: " + c.ns + "/" + c.name,
		"Source: graphs/graph (" + b.file + "): read only, from s3://copies/prod?endpoint=",
		"read from the copy s3://copies/prod",
		id,
		"CREATE DATABASE neo4j-dr",
		"the new database neo4j-dr holds the data of graphs/graph's neo4j",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "neo4j-dr is online on 3 allocations") {
		t.Errorf("the restore did not wait for every allocation:\n%s", r.stderr)
	}
	// The API server's audit log: the binary's requests named no object
	// of the source's namespace (graphs, the source file's), and wrote in
	// the target's.
	var toSource, writes int
	for _, ev := range neo4jctlRequests(t, env, mark, c.ns) {
		if ev.ObjectRef != nil && ev.ObjectRef.Namespace == "graphs" {
			toSource++
		}
		if isWrite(ev) && ev.ObjectRef != nil && ev.ObjectRef.Namespace == c.ns {
			writes++
		}
	}
	for _, ev := range neo4jctlRequests(t, env, mark, "graphs") {
		if ev.ObjectRef != nil && ev.ObjectRef.Namespace == "graphs" {
			toSource++
		}
	}
	if toSource != 0 || writes == 0 {
		t.Errorf("audit log: %d requests to the source's namespace (want 0), %d writes in the target's (want some)", toSource, writes)
	}
	t.Logf("FIGURE: audit log: %d writes in the target's namespace, %d requests to the source's", writes, toSource)

	mu.Lock()
	p, cm := pod, conf
	mu.Unlock()
	if p == nil {
		t.Fatal("no seed Pod was ever seen")
	}
	var mounted []string
	for _, v := range p.Spec.Volumes {
		if v.Secret != nil {
			mounted = append(mounted, v.Secret.SecretName)
		}
	}
	if got := strings.Join(mounted, " "); got != "backup-keyset copy-s3" {
		t.Errorf("the seed Pod mounts Secrets %q, want the keyset and the copy's credentials only", got)
	}

	// The fetch containers, run as the Pod runs them, the primary bucket
	// failing every request.
	confDir, secrets := filepath.Join(b.dir, "conf"), filepath.Join(b.dir, "pod-secrets")
	for k, v := range cm {
		if err := os.MkdirAll(confDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(confDir, k), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range mounted {
		if err := os.CopyFS(filepath.Join(secrets, s), os.DirFS(filepath.Join(b.secrets, s))); err != nil {
			t.Fatal(err)
		}
	}
	fail := primary.Add(storage.Rule{Times: 1 << 20, Fault: storage.Fault{Status: http.StatusServiceUnavailable}})
	seen := len(primary.Requests())
	fetch := func(work string) result {
		t.Helper()
		if err := os.MkdirAll(work, 0o700); err != nil {
			t.Fatal(err)
		}
		var fetches []corev1.Container
		for _, ic := range p.Spec.InitContainers {
			if strings.HasPrefix(ic.Name, "fetch-") {
				fetches = append(fetches, ic)
			}
		}
		if len(fetches) != 1 {
			t.Fatalf("seed Pod: %d fetch containers, want 1", len(fetches))
		}
		var args []string
		for _, a := range fetches[0].Args {
			a = strings.Replace(a, "/restore/conf", confDir, 1)
			a = strings.Replace(a, "/restore/work", work, 1)
			a = strings.Replace(a, "/var/run/secrets/neo4jctl/backup", secrets, 1)
			args = append(args, a)
		}
		if args[0] != "restore" || args[1] != "fetch" {
			t.Fatalf("fetch container runs %v, want restore fetch", args)
		}
		res := run(t, []string{"NO_COLOR=1"}, binary, args...)
		b.outputs = append(b.outputs, res.stdout, res.stderr)
		return res
	}
	work := filepath.Join(b.dir, "work")
	if res := fetch(work); res.code != 0 {
		t.Fatalf("fetch from the copy with the primary down:\n%s", res)
	}
	if got := fileDigest(t, filepath.Join(work, "neo4j.dump")); got != fileDigest(t, dump) {
		t.Errorf("the artifact fetched from the copy differs from the one stored")
	}
	if n := len(primary.Requests()) - seen; n != 0 || primary.Hits(fail) != 0 {
		t.Errorf("the fetch sent %d requests to the primary bucket, want none", n)
	}

	// The copy corrupted at rest: one byte of its object flipped.
	var object string
	_ = filepath.Walk(filepath.Join(data, "copies"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".enc") {
			object = p
		}
		return nil
	})
	if object == "" {
		t.Fatal("no copied object found in the copy bucket")
	}
	raw, err := os.ReadFile(object)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x01
	if err := os.WriteFile(object, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(b.dir, "work-bad")
	res := fetch(bad)
	if res.code == 0 {
		t.Fatalf("fetch of a corrupted copy succeeded:\n%s", res)
	}
	if left, _ := os.ReadDir(bad); len(left) != 0 {
		t.Errorf("a failed fetch left %d files (first %s)", len(left), left[0].Name())
	}
	t.Logf("corrupted copy: %s", lastNonEmpty(res.stderr))
	b.scanSecrets()
}
