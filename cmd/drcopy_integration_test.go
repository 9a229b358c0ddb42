package cmd

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
)

// TestDRDrillFromCopyWithThePrimaryLost drills the applied Community
// example from its copy bucket while its primary storage's server is
// stopped. Real: two versitygw servers (the primary behind a proxy that
// counts requests), the agent, a verification recorded and `backup copy`
// carrying it into the copy's catalogue, the catalogue read from the
// copy, the scratch namespace, the Secrets copied (the copy's
// credentials among them), the apply, the restore's Job read back, the
// healthcheck and count over Bolt, the teardown. Simulated, and marked so
// in the report: kwok completes the restore Job's Pod; Neo4j is the
// simulator.
//
// The drill selects the verified backup from the copy's catalogue, the
// report names the copy as where the backups were read, and no request
// reached the primary after the outage.
func TestDRDrillFromCopyWithThePrimaryLost(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs versitygw and the test control plane")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, _ := communityClusterFixture(t, ctx, "community", false)
	base, err := os.ReadFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	src := newCopySource(t, string(base), true)
	cs, err := f.env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	keyset, err := os.ReadFile(src.keyset)
	if err != nil {
		t.Fatal(err)
	}
	// The cluster's namespace holds what its backup Jobs mount.
	for name, d := range map[string]map[string][]byte{
		"bk-keyset": {"keyset.json": keyset},
		"backup-s3": {"AWS_ACCESS_KEY_ID": []byte("primary"), "AWS_SECRET_ACCESS_KEY": []byte("primary-secret")},
		"copy-s3":   {"AWS_ACCESS_KEY_ID": []byte(src.copyS3.AccessKey), "AWS_SECRET_ACCESS_KEY": []byte(src.copyS3.SecretKey)},
	} {
		if _, err := cs.CoreV1().Secrets(f.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: d}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	scratch := f.ns + "-dr"
	sim, err := harness.StartSim(ctx, f.env, f.c, scratch, "community-pw-1", neo4jsim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetNodeCount("neo4j", 7)
	code, out, errOut := f.run(ctx, "dr", "drill", "-f", src.file, "--from-copy", src.copyS3.Region, "--namespace", scratch,
		"--neo4j-password-file", f.pwFile, "--secrets-dir", src.secrets, "-o", "json", "--step-timeout", "60s", "--no-record")
	if code != ExitOK {
		t.Fatalf("dr drill --from-copy: exit %d\n%s\n%s", code, out, errOut)
	}
	var r struct {
		drillJSON
		Backups string `json:"backups"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if !strings.HasPrefix(r.Backups, "the copy s3://copies/prod?") || !r.Met {
		t.Errorf("report: backups %q met %v, want the copy named\n%s", r.Backups, r.Met, out)
	}
	if len(r.Counts) != 1 || r.Counts[0].Restored != src.id || r.Counts[0].Nodes != 7 {
		t.Errorf("counts: %+v, want neo4j 7 nodes from %s", r.Counts, src.id)
	}
	for _, s := range r.Steps {
		if s.Error != "" {
			t.Errorf("step %s failed: %s", s.Name, s.Error)
		}
	}
	if n := len(src.primary.Requests()) - src.primaryRequests; n != 0 {
		t.Errorf("%d requests reached the primary storage after the outage, want none: %v", n, src.primary.Requests()[src.primaryRequests:])
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); err == nil {
		t.Errorf("the scratch namespace %s is still there", scratch)
	}
}
