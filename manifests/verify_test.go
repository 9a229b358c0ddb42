package manifests_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// verified is the Community cluster with backups of dumps and a
// verification schedule.
func verified() *clusterfile.Cluster {
	c := community()
	c.Spec.Backups = &clusterfile.Backups{
		Storage:      clusterfile.BackupLocation{URL: "s3://bk/solo?region=eu-west-1", CredentialsSecret: "bk-s3"},
		Copies:       []clusterfile.BackupLocation{{URL: "s3://bk-us/solo?region=us-east-1", CredentialsSecret: "bk-s3-us"}},
		Encryption:   clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "bk-keyset"}},
		Verification: &clusterfile.BackupVerification{Schedule: "30 4 * * *"},
	}
	clusterfile.Default(c)
	return c
}

func verifyObjects(t *testing.T, c *clusterfile.Cluster) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifests.VerifyObjects(c, c.Metadata.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestVerifyObjectsGolden(t *testing.T) {
	got, err := manifests.MarshalYAML(verifyObjects(t, verified()))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "verify.golden.yaml")
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

func addresses(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
	}
	return out
}

// TestVerifyObjectsAndCronJobOnlyWithSchedule: the scratch namespace and
// its objects, the Role in the cluster's namespace; the CronJob only with
// spec.backups.verification.schedule, with the CronJob settings a
// verification needs.
func TestVerifyObjectsAndCronJobOnlyWithSchedule(t *testing.T) {
	c := verified()
	scratch := "neo4jctl-verify-db-solo"
	if got := manifests.VerifyNamespaceName(c, "db"); got != scratch {
		t.Fatalf("scratch namespace %q, want %q", got, scratch)
	}
	want := []string{
		"Namespace//" + scratch,
		"ResourceQuota/" + scratch + "/neo4jctl-verify",
		"LimitRange/" + scratch + "/neo4jctl-verify",
		"ServiceAccount/" + scratch + "/neo4jctl-verify",
		"ConfigMap/" + scratch + "/neo4jctl-verify-cluster",
		"Role/db/solo-verify-secrets",
		"RoleBinding/db/solo-verify-secrets",
		"CronJob/" + scratch + "/neo4jctl-verify",
	}
	objs := verifyObjects(t, c)
	if diff := cmp.Diff(want, addresses(objs)); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	cj := typedAs[batchv1.CronJob](t, objs[len(objs)-1])
	if cj.Spec.Schedule != "30 4 * * *" || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent ||
		cj.Spec.StartingDeadlineSeconds == nil || *cj.Spec.SuccessfulJobsHistoryLimit != 3 || *cj.Spec.FailedJobsHistoryLimit != 3 ||
		cj.Spec.TimeZone == nil || *cj.Spec.TimeZone != "UTC" {
		t.Errorf("CronJob spec: %+v", cj.Spec)
	}
	js := cj.Spec.JobTemplate.Spec
	if js.ActiveDeadlineSeconds == nil || *js.ActiveDeadlineSeconds != int64(manifests.VerifyJobDeadline/time.Second) || *js.BackoffLimit != 0 {
		t.Errorf("Job spec: deadline %v, backoffLimit %v", js.ActiveDeadlineSeconds, js.BackoffLimit)
	}
	if !slices.Contains(js.Template.Spec.Containers[0].Args, "--latest") {
		t.Errorf("the CronJob verifies %v, want --latest", js.Template.Spec.Containers[0].Args)
	}

	c.Spec.Backups.Verification = nil
	objs = verifyObjects(t, c)
	if diff := cmp.Diff(want[:len(want)-1], addresses(objs)); diff != "" {
		t.Errorf("without a schedule (-want +got):\n%s", diff)
	}
	if manifests.VerifyCronJob(c, "db") != nil {
		t.Error("VerifyCronJob without a schedule is not nil")
	}
	// And the cluster's own objects never hold it.
	for _, o := range render(t, verified()) {
		if o.GetLabels()[manifests.LabelComponent] == manifests.VerifyComponent {
			t.Errorf("Render holds verification object %s", manifests.Address(o))
		}
	}
}

// TestVerifyJobAndCronJobShareThePod: the command's Job and the
// CronJob's template come from one function; they differ only in the
// backup named (an ID, or --latest).
func TestVerifyJobAndCronJobShareThePod(t *testing.T) {
	c := verified()
	id := "solo/neo4j/20261207T020000Z-full-3f2a9c01"
	job := manifests.VerifyJob(c, "db", id, time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC))
	cj := manifests.VerifyCronJob(c, "db")
	if job.Name != "neo4jctl-verify-20261207210000" || job.Namespace != "neo4jctl-verify-db-solo" {
		t.Errorf("Job %s/%s", job.Namespace, job.Name)
	}
	got := job.Spec.DeepCopy()
	args := got.Template.Spec.Containers[0].Args
	i := slices.Index(args, id)
	if i < 0 {
		t.Fatalf("the Job's args %v do not name %s", args, id)
	}
	args[i] = "--latest"
	if diff := cmp.Diff(cj.Spec.JobTemplate.Spec, *got); diff != "" {
		t.Errorf("the Job's spec differs from the CronJob's beyond the backup named (-cronjob +job):\n%s", diff)
	}
}

// TestVerifyPodIsRestrictedAndBounded: every container under the
// restricted security context with CPU and memory requests and limits,
// every emptyDir bounded, the token mounted (the Pod reads two Secrets by API),
// neo4jctl copied in by the init container and run as backup verify
// --local with --secrets-namespace of the cluster.
func TestVerifyPodIsRestrictedAndBounded(t *testing.T) {
	spec := manifests.VerifyJobTemplate(verified(), "db", "").Template.Spec
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot || spec.SecurityContext.SeccompProfile == nil {
		t.Errorf("pod security context %+v", spec.SecurityContext)
	}
	if spec.AutomountServiceAccountToken == nil || !*spec.AutomountServiceAccountToken || spec.ServiceAccountName != manifests.VerifyServiceAccountName {
		t.Errorf("service account %q, token %v", spec.ServiceAccountName, spec.AutomountServiceAccountToken)
	}
	for _, ctr := range append(append([]corev1.Container(nil), spec.InitContainers...), spec.Containers...) {
		sc := ctr.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("%s: security context %+v", ctr.Name, sc)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := ctr.Resources.Limits[r]; !ok {
				t.Errorf("%s: no %s limit", ctr.Name, r)
			}
			if _, ok := ctr.Resources.Requests[r]; !ok {
				t.Errorf("%s: no %s request", ctr.Name, r)
			}
		}
	}
	// Disk: the root filesystem is read-only, so every writable volume
	// must be bounded.
	for _, v := range spec.Volumes {
		if v.EmptyDir != nil && v.EmptyDir.SizeLimit == nil {
			t.Errorf("emptyDir %s has no sizeLimit", v.Name)
		}
		if v.Secret != nil || v.PersistentVolumeClaim != nil {
			t.Errorf("volume %s mounts a Secret or claim", v.Name)
		}
	}
	init, main := spec.InitContainers[0], spec.Containers[0]
	if init.Image != manifests.AgentImage() || !slices.Contains(init.Args, "--install-binary") {
		t.Errorf("init container %s %v", init.Image, init.Args)
	}
	if !strings.HasPrefix(main.Image, "neo4j:5.26") || main.Command[0] != manifests.VerifyBinary {
		t.Errorf("verify container %s %v", main.Image, main.Command)
	}
	joined := strings.Join(main.Args, " ")
	for _, want := range []string{"backup verify --latest --local", "--secrets-namespace db", "--neo4j-home /var/lib/neo4j"} {
		if !strings.Contains(joined, want) {
			t.Errorf("verify args %q lack %q", joined, want)
		}
	}
}

// TestVerifyRoleReadsExactlyTwoSecrets: get, by name, on the keyset and
// the storage's credentials (not the copies', not list or watch), bound
// to the scratch ServiceAccount; the namespace enforces restricted.
func TestVerifyRoleReadsExactlyTwoSecrets(t *testing.T) {
	objs := verifyObjects(t, verified())
	role := typedAs[rbacv1.Role](t, find(objs, "Role", "solo-verify-secrets"))
	want := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"bk-keyset", "bk-s3"}}}
	if diff := cmp.Diff(want, role.Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	rb := typedAs[rbacv1.RoleBinding](t, find(objs, "RoleBinding", "solo-verify-secrets"))
	if len(rb.Subjects) != 1 || rb.Subjects[0] != (rbacv1.Subject{Kind: "ServiceAccount", Name: "neo4jctl-verify", Namespace: "neo4jctl-verify-db-solo"}) || rb.RoleRef.Name != role.Name {
		t.Errorf("binding %+v", rb)
	}
	ns := find(objs, "Namespace", "neo4jctl-verify-db-solo")
	if got := ns.GetLabels()["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("namespace enforces %q", got)
	}
	for _, o := range objs {
		if _, ok := o.GetLabels()[manifests.LabelCluster]; ok {
			t.Errorf("%s carries %s: the cluster's apply would prune it", manifests.Address(o), manifests.LabelCluster)
		}
	}
	// A storage without credentials (workload identity, file://): the
	// keyset alone.
	c := verified()
	c.Spec.Backups.Storage.CredentialsSecret = ""
	if got := manifests.VerifySecrets(c.Spec.Backups); !slices.Equal(got, []string{"bk-keyset"}) {
		t.Errorf("secrets without credentials: %v", got)
	}
}

func TestVerifyNamespaceNameFits(t *testing.T) {
	c := verified()
	c.Metadata.Name = strings.Repeat("c", 40)
	a := manifests.VerifyNamespaceName(c, strings.Repeat("n", 40))
	b := manifests.VerifyNamespaceName(c, strings.Repeat("n", 41))
	if len(a) > 63 || len(b) > 63 || a == b || !strings.HasPrefix(a, "neo4jctl-verify-") {
		t.Errorf("long names: %q (%d), %q (%d)", a, len(a), b, len(b))
	}
}
