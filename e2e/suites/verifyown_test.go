package suites

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// TestVerificationScheduleOwnedByApply: through the built binary, a
// cluster file with spec.backups.verification.schedule is planned (the
// scratch namespace and the CronJob in it, planned without a dry run
// while the namespace does not exist), applied (the CronJob exists in
// the scratch namespace), planned again empty, shows no drift, and
// without the schedule plans and applies the scratch namespace's deletion
// (CronJob included); destroy removes the objects of a schedule put back.
// The scratch namespace's name derives from the test's own namespace.
func TestVerificationScheduleOwnedByApply(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	bucket := t.TempDir()
	withSchedule := func(doc map[string]any) {
		setPath(doc, map[string]any{
			"storage":      map[string]any{"url": "file://" + bucket},
			"encryption":   map[string]any{"keysetSecret": map[string]any{"name": "bk-keyset"}},
			"verification": map[string]any{"schedule": "30 4 * * *"},
		}, "spec", "backups")
	}
	c := newCluster(t, env, clusterOpts{noSim: true, mutate: withSchedule})
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := cs.CoreV1().Secrets(c.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bk-keyset"}, StringData: map[string]string{"keyset.json": "{}"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	scratch := "neo4jctl-verify-" + c.ns + "-" + c.name
	if len(scratch) > 63 {
		t.Skipf("scratch namespace %s would be shortened; the test names it by its long form", scratch)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), scratch, metav1.DeleteOptions{}) })
	cronJob := "k8s:batch/CronJob/" + scratch + "/neo4jctl-verify"

	res := c.neo4jctl(c.planeFlags("plan", "-f", c.file)...)
	if res.code != 0 || !strings.Contains(res.stdout, cronJob) || !strings.Contains(res.stdout, "not dry-run: its namespace "+scratch+" is created by this plan") {
		t.Fatalf("first plan: want the CronJob planned without a dry run\n%s", res)
	}
	c.converge()
	if _, err := cs.BatchV1().CronJobs(scratch).Get(ctx, "neo4jctl-verify", metav1.GetOptions{}); err != nil {
		t.Fatalf("apply made no CronJob in %s: %v", scratch, err)
	}
	if res := c.neo4jctl(c.planeFlags("drift", "-f", c.file)...); res.code != 0 {
		t.Errorf("drift after apply:\n%s", res)
	}

	c.edit(func(doc map[string]any) {
		delete(getPath(doc, "spec", "backups").(map[string]any), "verification")
	})
	p, res := c.plan()
	deletes := map[string]bool{}
	for _, s := range p.Steps {
		if s.Action == "delete" {
			deletes[s.Address] = true
		}
	}
	if res.code != 2 || !deletes["k8s:core/Namespace/"+scratch] {
		t.Fatalf("plan without the schedule: want the scratch namespace (with the CronJob) deleted\n%s", res)
	}
	c.converge()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the scratch namespace survived apply without the schedule: %v", err)
	}

	c.edit(withSchedule)
	c.converge()
	res = c.neo4jctl("destroy", "-f", c.file, "--auto-approve", "--skip-backup")
	if res.code != 0 || !strings.Contains(res.stdout, "k8s:core/Namespace/"+scratch) {
		t.Fatalf("destroy: want the scratch namespace in its plan\n%s", res)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("destroy left %s: %v", scratch, err)
		}
	}
}
