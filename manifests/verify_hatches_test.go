package manifests_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// verifiedWithHatches is verified() pulling from a private registry
// (spec.imagePullSecrets) and reading its storage as a cloud workload
// identity (spec.serviceAccount.annotations, spec.pod.labels for Azure).
func verifiedWithHatches() *clusterfile.Cluster {
	c := verified()
	c.Spec.ImagePullSecrets = []string{"regcred", "mirror-cred"}
	c.Spec.ServiceAccount = &clusterfile.ServiceAccount{Annotations: map[string]string{
		"azure.workload.identity/client-id": "0000-1111",
	}}
	c.Spec.Pod = &clusterfile.PodMeta{
		Labels:      map[string]string{"azure.workload.identity/use": "true"},
		Annotations: map[string]string{"example.com/team": "graphs"},
	}
	c.Spec.Backups.Storage = clusterfile.BackupLocation{URL: "azblob://bk", WorkloadIdentity: true}
	c.Spec.Backups.Copies = nil
	return c
}

func TestVerifyObjectsHatchesGolden(t *testing.T) {
	got, err := manifests.MarshalYAML(verifyObjects(t, verifiedWithHatches()))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "verify-hatches.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./manifests -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("VerifyObjects (-want +got):\n%s", diff)
	}
}

// TestVerifyPodGetsTheClusterHatches: the verification Pod names the
// cluster's image pull Secrets (their copies in the scratch namespace,
// same names), and with workload identity its ServiceAccount carries
// spec.serviceAccount.annotations and its Pod spec.pod's metadata, as the
// backup Pods' do; neo4jctl's own labels win. Without workload identity
// neither is added.
func TestVerifyPodGetsTheClusterHatches(t *testing.T) {
	c := verifiedWithHatches()
	objs := verifyObjects(t, c)
	var sa *corev1.ServiceAccount
	for _, o := range objs {
		if o.GetKind() == "ServiceAccount" {
			sa = typedAs[corev1.ServiceAccount](t, o)
		}
	}
	if sa == nil || sa.Annotations["azure.workload.identity/client-id"] != "0000-1111" {
		t.Errorf("verification ServiceAccount: %+v, want spec.serviceAccount.annotations", sa)
	}
	cj := typedAs[batchv1.CronJob](t, objs[len(objs)-1])
	for name, pod := range map[string]corev1.PodTemplateSpec{
		"CronJob":  cj.Spec.JobTemplate.Spec.Template,
		"one-off":  manifests.VerifyJobTemplate(c, "db", "x").Template,
		"one-off2": manifests.VerifyJob(c, "db", "x", time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)).Spec.Template,
	} {
		if diff := cmp.Diff([]corev1.LocalObjectReference{{Name: "regcred"}, {Name: "mirror-cred"}}, pod.Spec.ImagePullSecrets); diff != "" {
			t.Errorf("%s imagePullSecrets (-want +got):\n%s", name, diff)
		}
		if pod.Labels["azure.workload.identity/use"] != "true" || pod.Annotations["example.com/team"] != "graphs" ||
			pod.Labels[manifests.LabelComponent] != manifests.VerifyComponent {
			t.Errorf("%s Pod metadata: labels %v annotations %v", name, pod.Labels, pod.Annotations)
		}
	}

	c.Spec.Backups.Storage.WorkloadIdentity = false
	c.Spec.Backups.Storage.CredentialsSecret = "bk-azure"
	for _, o := range verifyObjects(t, c) {
		if o.GetKind() == "ServiceAccount" && len(o.GetAnnotations()) != 0 {
			t.Errorf("without workload identity the ServiceAccount has annotations %v", o.GetAnnotations())
		}
	}
	pod := manifests.VerifyJobTemplate(c, "db", "x").Template
	if _, ok := pod.Labels["azure.workload.identity/use"]; ok || len(pod.Annotations) != 0 || len(pod.Spec.ImagePullSecrets) != 2 {
		t.Errorf("without workload identity: labels %v annotations %v pull secrets %v", pod.Labels, pod.Annotations, pod.Spec.ImagePullSecrets)
	}
}

// TestVerifyPullSecretCopy: the copy keeps the source's type and data,
// lands in the scratch namespace under the same name, and says where it
// came from.
func TestVerifyPullSecretCopy(t *testing.T) {
	c := verified()
	data := map[string][]byte{".dockerconfigjson": []byte(`{"auths":{"r.example.com":{"auth":"c2VjcmV0"}}}`)}
	u, err := manifests.VerifyPullSecretCopy(c, "db", "regcred", corev1.SecretTypeDockerConfigJson, data)
	if err != nil {
		t.Fatal(err)
	}
	if u.GetNamespace() != manifests.VerifyNamespaceName(c, "db") || u.GetName() != "regcred" ||
		u.GetAnnotations()[manifests.AnnotationCopiedFrom] != "db/regcred" || u.GetLabels()[manifests.LabelVerifyPullSecret] != "true" {
		t.Errorf("copy metadata: %s/%s %v %v", u.GetNamespace(), u.GetName(), u.GetLabels(), u.GetAnnotations())
	}
	if u.Object["type"] != string(corev1.SecretTypeDockerConfigJson) {
		t.Errorf("type %v", u.Object["type"])
	}
	d, _ := u.Object["data"].(map[string]any)
	if d[".dockerconfigjson"] != base64.StdEncoding.EncodeToString(data[".dockerconfigjson"]) {
		t.Errorf("data %v", d)
	}
}
