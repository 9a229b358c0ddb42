package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// TestBackupVerifyCopiesPullSecrets: against the real control plane, the
// cluster's image pull Secrets reach the verification Pods of the scratch
// namespace. A listed Secret missing from the cluster's namespace is
// refused with the fix before anything is applied; once it exists,
// `backup verify --install` copies it (same name, type and data) into the
// scratch namespace, says so in its plan by name, type and key count
// without its value, and the CronJob's Pods name it; a later run whose
// file no longer lists it reports the copy left behind.
func TestBackupVerifyCopiesPullSecrets(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the test control plane")
	}
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	file := filepath.Join(dir, "solo.yaml")
	write := func(pullSecrets string) {
		t.Helper()
		body := fmt.Sprintf(`apiVersion: neo4jctl.io/v1alpha1
kind: Neo4jCluster
metadata: {name: solo, namespace: %s}
spec:
  edition: community
  version: "5.26.0"
  imagePullSecrets: %s
  auth: {secretRef: {name: solo-auth}}
  backups:
    storage: {url: "file://%s"}
    encryption: {keysetSecret: {name: bk-keyset}}
    verification: {schedule: "30 4 * * *"}
`, ns, pullSecrets, filepath.Join(dir, "bucket"))
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("[regcred]")
	c, err := clusterfile.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	scratch := manifests.VerifyNamespaceName(c, ns)
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), scratch, metav1.DeleteOptions{}) })
	admin := func(args ...string) (int, string, string) {
		t.Helper()
		io, _, out, errOut := iostreams.Test()
		flags := genericclioptions.NewConfigFlags(true)
		flags.KubeConfig = &env.Kubeconfig
		code := Run(ctx, &Factory{IO: io, KubeFlags: flags, Build: BuildInfo{Version: "test"}}, args)
		return code, out.String(), errOut.String()
	}

	code, _, stderr := admin("backup", "verify", "--install", "-f", file)
	if code != ExitError || !strings.Contains(stderr, "spec.imagePullSecrets[0]: Secret "+ns+"/regcred does not exist") || !strings.Contains(stderr, "create secret docker-registry regcred") {
		t.Fatalf("--install without the pull Secret: exit %d, want 1 with the fix\n%s", code, stderr)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, scratch, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused run created the scratch namespace (%v)", err)
	}

	const canary = "pull-S3cret-canary-4242"
	cfg := []byte(`{"auths":{"registry.example.com":{"auth":"` + canary + `"}}}`)
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "regcred"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: cfg},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := admin("backup", "verify", "--install", "-f", file)
	if code != ExitOK {
		t.Fatalf("--install: exit %d\n%s", code, stderr)
	}
	want := "+ k8s:core/Secret/" + scratch + "/regcred  create: copy of image pull Secret " + ns + "/regcred (kubernetes.io/dockerconfigjson, 1 key; values not shown)"
	if !strings.Contains(stderr, want) {
		t.Errorf("the plan lacks %q:\n%s", want, stderr)
	}
	if strings.Contains(out+stderr, canary) {
		t.Errorf("the pull Secret's value was printed:\n%s%s", out, stderr)
	}
	cp, err := cs.CoreV1().Secrets(scratch).Get(ctx, "regcred", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cp.Type != corev1.SecretTypeDockerConfigJson || string(cp.Data[corev1.DockerConfigJsonKey]) != string(cfg) || cp.Annotations[manifests.AnnotationCopiedFrom] != ns+"/regcred" {
		t.Errorf("copy: type %s, annotations %v, data equal %v", cp.Type, cp.Annotations, string(cp.Data[corev1.DockerConfigJsonKey]) == string(cfg))
	}
	cj, err := cs.BatchV1().CronJobs(scratch).Get(ctx, manifests.VerifyCronJobName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ps := cj.Spec.JobTemplate.Spec.Template.Spec.ImagePullSecrets; len(ps) != 1 || ps[0].Name != "regcred" {
		t.Errorf("the CronJob's Pods pull with %v, want regcred", ps)
	}

	// Again: the copy exists and is applied over.
	if code, _, stderr = admin("backup", "verify", "--install", "-f", file); code != ExitOK || !strings.Contains(stderr, "~ k8s:core/Secret/"+scratch+"/regcred  apply (exists): copy") {
		t.Errorf("second --install: exit %d\n%s", code, stderr)
	}
	write("[]")
	if code, _, stderr = admin("backup", "verify", "--install", "-f", file); code != ExitOK || !strings.Contains(stderr, "! k8s:core/Secret/"+scratch+"/regcred  left:") {
		t.Errorf("--install without the name: exit %d, want the copy reported as left\n%s", code, stderr)
	}
}
