package cmd

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// TestForeignMemberIsReportedNotDeleted: a ConfigMap created with kubectl
// (field manager kubectl-create) and labelled into the cluster's ApplySet,
// whose kinds list ConfigMap, looks like an orphan to a label query. It
// is not neo4jctl's: plan reports it and plans no delete, apply leaves it,
// and a delete of it asked for directly is refused.
func TestForeignMemberIsReportedNotDeleted(t *testing.T) {
	env, ns, file := appliedQuickstart(t)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	inv := kube.InventoryRef{Namespace: ns, Cluster: "quickstart"}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "someone-elses", Namespace: ns, Labels: map[string]string{
			kube.ApplySetPartOfLabel: inv.ID(), kube.ClusterLabel: "quickstart"}},
		Data: map[string]string{"keep": "me"},
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
		t.Fatal(err)
	}
	addr := "k8s:core/ConfigMap/" + ns + "/someone-elses"

	code, stdout, stderr := runApplyCLI(t, env, "plan", "-f", file, "--skip-neo4j", "--compact")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "- "+addr) || !strings.Contains(stdout+stderr, addr) || !strings.Contains(stdout+stderr, "never wrote it") {
		t.Errorf("plan should report %s as not neo4jctl's and plan no delete:\nstdout:\n%s\nstderr:\n%s", addr, stdout, stderr)
	}
	if code, stdout, stderr := runApplyCLI(t, env, "apply", "-f", file, "--auto-approve", "--skip-neo4j", "--wait=false"); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "someone-elses", metav1.GetOptions{}); err != nil {
		t.Fatalf("apply deleted a ConfigMap someone else labelled into the set: %v", err)
	}

	// Asked directly (a plan that names it), the delete is refused.
	kc, err := kube.NewForConfig(env.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = kc.Delete(ctx, kube.Ref{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "someone-elses"})
	var npe *kube.NotPrunableError
	if !errors.As(err, &npe) || !strings.Contains(err.Error(), "managedFields") {
		t.Errorf("Delete of the foreign member: got %v, want a *kube.NotPrunableError naming managedFields", err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "someone-elses", metav1.GetOptions{}); err != nil {
		t.Errorf("Delete removed the foreign member: %v", err)
	}
	// A neo4jctl member is still deleted (the client Service).
	if err := kc.Delete(ctx, kube.Ref{Version: "v1", Kind: "Service", Namespace: ns, Name: "quickstart"}); err != nil {
		t.Errorf("Delete of a neo4jctl member: %v", err)
	}
}
