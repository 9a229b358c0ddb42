package manifests_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// backedUp is the enterprise cluster with scheduled backups, a chain
// volume, a copy bucket and a NetworkPolicy.
func backedUp() *clusterfile.Cluster {
	c := enterprise()
	c.Spec.Backups = &clusterfile.Backups{
		Storage:     clusterfile.BackupLocation{URL: "s3://bk/g?region=eu-west-1", CredentialsSecret: "bk-s3"},
		Copies:      []clusterfile.BackupLocation{{URL: "s3://bk-us/g?region=us-east-1", CredentialsSecret: "bk-s3-us"}},
		Schedule:    &clusterfile.BackupSchedule{Full: "0 2 * * *", Differential: "0 */6 * * *"},
		Encryption:  clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "bk-keyset"}},
		ChainVolume: &clusterfile.Volume{Size: "10Gi", StorageClassName: "standard"},
	}
	on := true
	c.Spec.Security.NetworkPolicy.Enabled = &on
	clusterfile.Default(c)
	return c
}

func typedAs[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	if u == nil {
		t.Fatalf("object not rendered")
	}
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &out); err != nil {
		t.Fatalf("convert %s: %v", u.GetName(), err)
	}
	return &out
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func TestRenderBackupsGolden(t *testing.T) {
	got, err := manifests.MarshalYAML(render(t, backedUp()))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "backups.golden.yaml")
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
		t.Errorf("Render (-want +got):\n%s", diff)
	}
}

func TestRenderBackupObjects(t *testing.T) {
	objs := render(t, backedUp())
	for _, want := range []string{"ServiceAccount/g-backup", "ConfigMap/g-backup", "PersistentVolumeClaim/g-backup-chains", "CronJob/g-backup-full", "CronJob/g-backup-diff"} {
		if !slices.Contains(kinds(objs), want) {
			t.Errorf("rendered %v, want %s among them", kinds(objs), want)
		}
	}
	// No Role: the backup Pods never call the API server.
	for _, o := range objs {
		if (o.GetKind() == "Role" || o.GetKind() == "RoleBinding") && strings.Contains(o.GetName(), "backup") {
			t.Errorf("rendered %s/%s: the backup ServiceAccount needs no permission", o.GetKind(), o.GetName())
		}
	}
	sa := typedAs[corev1.ServiceAccount](t, find(objs, "ServiceAccount", "g-backup"))
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("backup ServiceAccount automounts its token")
	}

	np := typedAs[networkingv1.NetworkPolicy](t, find(objs, "NetworkPolicy", "g"))
	servers := labels.SelectorFromSet(manifests.ClusterSelector(backedUp()))
	for _, typ := range []string{"full", "diff"} {
		cj := typedAs[batchv1.CronJob](t, find(objs, "CronJob", "g-backup-"+typ))
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: concurrencyPolicy %q, want Forbid", cj.Name, cj.Spec.ConcurrencyPolicy)
		}
		if cj.Spec.TimeZone == nil || *cj.Spec.TimeZone != "UTC" {
			t.Errorf("%s: timeZone %v, want UTC", cj.Name, cj.Spec.TimeZone)
		}
		pod := cj.Spec.JobTemplate.Spec.Template
		if pod.Spec.ServiceAccountName != "g-backup" || pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("%s: serviceAccount %q restartPolicy %q", cj.Name, pod.Spec.ServiceAccountName, pod.Spec.RestartPolicy)
		}
		// The NetworkPolicy admits the backup Pods to 6362, and the
		// servers' own selector does not pick them up.
		podSet := labels.Set(pod.Labels)
		if servers.Matches(podSet) {
			t.Errorf("%s: Pod labels %v match the servers' selector", cj.Name, pod.Labels)
		}
		if _, ok := pod.Labels[manifests.LabelCluster]; ok {
			t.Errorf("%s: Pod labels carry %s: observe would count backup Pods as servers", cj.Name, manifests.LabelCluster)
		}
		if !admitted(t, np, podSet, manifests.PortBackup) {
			t.Errorf("%s: NetworkPolicy does not admit Pods %v to %d", cj.Name, pod.Labels, manifests.PortBackup)
		}
		// Restricted Pod Security: every container.
		for _, ctr := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
			sc := ctr.SecurityContext
			if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || sc.SeccompProfile == nil ||
				sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s/%s: security context %+v is not restricted", cj.Name, ctr.Name, sc)
			}
		}
		lockc := pod.Spec.InitContainers[0]
		if lockc.Name != "lock" || lockc.RestartPolicy == nil || *lockc.RestartPolicy != corev1.ContainerRestartPolicyAlways ||
			!slices.Contains(lockc.Args, "lock") || !slices.Contains(lockc.Args, "*") || lockc.Image != manifests.AgentImage() {
			t.Errorf("%s: lock holder %+v, want a native sidecar running backup lock for \"*\"", cj.Name, lockc)
		}
		// The lock cannot expire under a running Job: the TTL the lock
		// holder is given exceeds the Job's deadline by more than the
		// Pod's termination grace period (30 s by default).
		d := cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds
		ttlAt := slices.Index(lockc.Args, "--ttl")
		if d == nil || ttlAt < 0 {
			t.Fatalf("%s: activeDeadlineSeconds %v, lock args %q", cj.Name, d, lockc.Args)
		}
		ttl, err := time.ParseDuration(lockc.Args[ttlAt+1])
		if err != nil {
			t.Fatal(err)
		}
		if deadline := time.Duration(*d) * time.Second; ttl <= deadline+30*time.Second {
			t.Errorf("%s: lock --ttl %s, Job activeDeadlineSeconds %s: the lock could expire under a running Job", cj.Name, ttl, deadline)
		}
		admin := pod.Spec.InitContainers[1]
		if !strings.Contains(admin.Command[2], "lock.held") || !strings.Contains(admin.Command[2], "lock.refused") {
			t.Errorf("%s: neo4j-admin does not wait for the lock:\n%s", cj.Name, admin.Command[2])
		}
		env := map[string]string{}
		for _, e := range admin.Env {
			env[e.Name] = e.Value
		}
		wantFrom := "g-2.g-headless.db.svc.cluster.local:6362,g-1.g-headless.db.svc.cluster.local:6362,g-0.g-headless.db.svc.cluster.local:6362"
		if env["BACKUP_FROM"] != wantFrom || env["BACKUP_TYPE"] != strings.ToUpper(typ) || env["BACKUP_COMPRESS"] != "true" {
			t.Errorf("%s: neo4j-admin env %v", cj.Name, env)
		}
		if got := admin.Command[len(admin.Command)-1]; got != "*" {
			t.Errorf("%s: databases %q, want \"*\"", cj.Name, got)
		}
		agent := pod.Spec.Containers[0]
		if agent.Image != manifests.AgentImage() || strings.HasSuffix(agent.Image, ":latest") {
			t.Errorf("%s: agent image %q", cj.Name, agent.Image)
		}
		if !slices.Contains(agent.Args, "agent") || !slices.Contains(agent.Args, "--requested-type") || !slices.Contains(agent.Args, strings.ToUpper(typ)) {
			t.Errorf("%s: agent args %v", cj.Name, agent.Args)
		}
		var claim string
		var secrets []string
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				claim = v.PersistentVolumeClaim.ClaimName
			}
			if v.Secret != nil {
				secrets = append(secrets, v.Secret.SecretName)
			}
		}
		if claim != "g-backup-chains" {
			t.Errorf("%s: chain claim %q, want g-backup-chains", cj.Name, claim)
		}
		if want := []string{"bk-keyset", "bk-s3", "bk-s3-us"}; !slices.Equal(secrets, want) {
			t.Errorf("%s: secrets %v, want %v", cj.Name, secrets, want)
		}
	}
}

// admitted reports whether an ingress rule of np admits Pods with labels
// podLabels of np's namespace on port.
func admitted(t *testing.T, np *networkingv1.NetworkPolicy, podLabels labels.Set, port int32) bool {
	t.Helper()
	for _, r := range np.Spec.Ingress {
		portOK := false
		for _, p := range r.Ports {
			if p.Port != nil && p.Port.IntVal == port {
				portOK = true
			}
		}
		if !portOK {
			continue
		}
		for _, from := range r.From {
			if from.NamespaceSelector != nil || from.PodSelector == nil {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(from.PodSelector)
			if err != nil {
				t.Fatal(err)
			}
			if sel.Matches(podLabels) {
				return true
			}
		}
	}
	return false
}

// The agent's cluster file in the ConfigMap is a valid cluster file that
// keeps spec.backups as the file wrote it, and changes with nothing else.
func TestRenderBackupAgentClusterFile(t *testing.T) {
	c := backedUp()
	cm := typedAs[corev1.ConfigMap](t, find(render(t, c), "ConfigMap", "g-backup"))
	loaded, err := clusterfile.Load("cluster.yaml", []byte(cm.Data["cluster.yaml"]))
	if err != nil {
		t.Fatalf("the agent's cluster file does not load: %v\n%s", err, cm.Data["cluster.yaml"])
	}
	if diff := cmp.Diff(c.Spec.Backups, loaded.Spec.Backups); diff != "" {
		t.Errorf("spec.backups (-rendered +loaded):\n%s", diff)
	}
	if loaded.Metadata.Name != "g" || loaded.Metadata.Namespace != "db" || loaded.Spec.Version != c.Spec.Version {
		t.Errorf("loaded %+v", loaded.Metadata)
	}
	other := backedUp()
	other.Spec.Config = map[string]string{"server.memory.heap.max_size": "2g"}
	other.Spec.Plugins = []string{"apoc"}
	cm2 := typedAs[corev1.ConfigMap](t, find(render(t, other), "ConfigMap", "g-backup"))
	if diff := cmp.Diff(cm.Data, cm2.Data); diff != "" {
		t.Errorf("the agent's cluster file changed with spec.config and spec.plugins (-before +after):\n%s", diff)
	}
}

// Without a schedule no CronJob is rendered, but what `backup create`'s
// Job needs is (ServiceAccount, cluster file, claim); Community, which
// has no online backup, gets none of it.
func TestRenderBackupsWithoutSchedule(t *testing.T) {
	c := backedUp()
	c.Spec.Backups.Schedule = nil
	objs := render(t, c)
	for _, want := range []string{"ServiceAccount/g-backup", "ConfigMap/g-backup", "PersistentVolumeClaim/g-backup-chains"} {
		if !slices.Contains(kinds(objs), want) {
			t.Errorf("rendered %v, want %s among them", kinds(objs), want)
		}
	}
	for _, o := range objs {
		if o.GetKind() == "CronJob" {
			t.Errorf("rendered CronJob/%s without a schedule", o.GetName())
		}
	}
	c = backedUp()
	c.Spec.Backups.Schedule.Differential = ""
	objs = render(t, c)
	if find(objs, "CronJob", "g-backup-diff") != nil || find(objs, "CronJob", "g-backup-full") == nil {
		t.Errorf("full schedule only: rendered %v", kinds(objs))
	}
	cc := community()
	cc.Spec.Backups = &clusterfile.Backups{Storage: clusterfile.BackupLocation{URL: "file:///b"}, Encryption: clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "k"}}}
	cc.Spec.Backups.ChainVolume = &clusterfile.Volume{Size: "1Gi"}
	var got []string
	for _, o := range render(t, cc) {
		if strings.Contains(o.GetName(), "backup") {
			got = append(got, o.GetKind()+"/"+o.GetName())
		}
	}
	// The offline dump Job's ServiceAccount and cluster file; no chain
	// claim (a dump is whole) and no CronJob.
	if want := []string{"ServiceAccount/solo-backup", "ConfigMap/solo-backup"}; !slices.Equal(got, want) {
		t.Errorf("Community: rendered %v, want %v", got, want)
	}
}

// The offline dump Job: neo4j-admin database dump on the server's data
// claim, then the agent on the dumps, under the bucket lock and the
// restricted security context, labelled as a backup Pod.
func TestOfflineDumpJob(t *testing.T) {
	cc := community()
	cc.Spec.Backups = &clusterfile.Backups{Storage: clusterfile.BackupLocation{URL: "file:///b"}, Encryption: clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "k"}}}
	now := time.Date(2026, 12, 7, 15, 4, 5, 0, time.UTC)
	job, err := manifests.OfflineDumpJob(cc, "db", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if job.Name != "solo-backup-dump-20261207150405" {
		t.Errorf("name %s", job.Name)
	}
	pod := job.Spec.Template
	if pod.Labels["app.kubernetes.io/component"] != "neo4jctl-backup" || pod.Labels[manifests.LabelBackupType] != "dump" {
		t.Errorf("Pod labels %v", pod.Labels)
	}
	sts := typedAs[appsv1.StatefulSet](t, find(render(t, cc), "StatefulSet", "solo"))
	claim := sts.Spec.VolumeClaimTemplates[0].Name + "-" + sts.Name + "-0"
	var mounted bool
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			mounted = v.PersistentVolumeClaim.ClaimName == claim
		}
	}
	if !mounted {
		t.Errorf("volumes %+v: want the server's data claim %s", pod.Spec.Volumes, claim)
	}
	if names := []string{pod.Spec.InitContainers[0].Name, pod.Spec.InitContainers[1].Name, pod.Spec.Containers[0].Name}; !slices.Equal(names, []string{"lock", "neo4j-admin", "agent"}) {
		t.Errorf("containers %v", names)
	}
	admin := pod.Spec.InitContainers[1]
	if script := admin.Command[2]; !strings.Contains(script, "neo4j-admin database dump") || !strings.Contains(script, "lock.held") ||
		admin.Command[len(admin.Command)-1] != "*" || admin.Image != "neo4j:5.26.0" {
		t.Errorf("neo4j-admin: image %s command %q", admin.Image, admin.Command)
	}
	for _, ctr := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		if sc := ctr.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil {
			t.Errorf("%s: security context %+v is not restricted", ctr.Name, sc)
		}
	}
	if sc := pod.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("Pod security context %+v", sc)
	}
	if agent := pod.Spec.Containers[0]; !slices.Contains(agent.Args, manifests.BackupDumpsDir) {
		t.Errorf("agent args %q", agent.Args)
	}
	one, err := manifests.OfflineDumpJob(cc, "db", []string{"neo4j"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if cmd := one.Spec.Template.Spec.InitContainers[1].Command; cmd[len(cmd)-1] != "neo4j" || !slices.Contains(one.Spec.Template.Spec.InitContainers[0].Args, "neo4j") {
		t.Errorf("--database neo4j: %q", cmd)
	}
}

// The one-off Job is the CronJob's template under a name of the moment,
// marked as instantiated by hand; --database narrows the databases.
func TestBackupJobFromTheCronJobTemplate(t *testing.T) {
	c := backedUp()
	cj := typedAs[batchv1.CronJob](t, find(render(t, c), "CronJob", "g-backup-diff"))
	now := time.Date(2026, 12, 7, 15, 4, 5, 0, time.UTC)
	job, err := manifests.BackupJob(c, "db", manifests.BackupDiff, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if job.Name != "g-backup-diff-20261207150405" || job.Annotations[manifests.AnnotationInstantiate] != "manual" {
		t.Errorf("Job %s annotations %v", job.Name, job.Annotations)
	}
	if diff := cmp.Diff(cj.Spec.JobTemplate.Spec, job.Spec); diff != "" {
		t.Errorf("Job spec differs from the CronJob's template (-cronjob +job):\n%s", diff)
	}
	one, err := manifests.BackupJob(c, "db", manifests.BackupFull, []string{"movies"}, now)
	if err != nil {
		t.Fatal(err)
	}
	cmdline := one.Spec.Template.Spec.InitContainers[1].Command
	if got := cmdline[len(cmdline)-1]; got != "movies" || slices.Contains(cmdline, "*") {
		t.Errorf("--database movies: command %q", cmdline)
	}
	long := backedUp()
	long.Metadata.Name = strings.Repeat("n", 60)
	lj, err := manifests.BackupJob(long, "db", manifests.BackupFull, nil, now)
	if err != nil || len(lj.Name) > 63 {
		t.Errorf("long cluster name: Job %q (%d), %v", lj.Name, len(lj.Name), err)
	}
}

// The agent's image tag is stamped like the binary's version, by both
// builds (make and goreleaser): the CronJobs then pin the release that
// rendered them, as watch's Deployment does.
func TestAgentImageIsStampedLikeTheVersion(t *testing.T) {
	for _, f := range []struct{ file, version string }{
		{"../Makefile", "$(VERSION)"}, {"../.goreleaser.yaml", "{{ .Version }}"},
	} {
		b, err := os.ReadFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"neo4jctl/cmd.version=" + f.version, "neo4jctl/manifests.releaseVersion=" + f.version} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s does not stamp %s", f.file, want)
			}
		}
	}
}

// The lock holder is a native sidecar: a server too old for it is told.
func TestBackupSidecarVersionRequirement(t *testing.T) {
	var found bool
	for _, r := range manifests.MinKubernetesVersions(render(t, backedUp())) {
		if strings.Contains(r.Object, "CronJob") && strings.Contains(r.Field, "restartPolicy") && r.MinVersion() == "1.29" {
			found = true
		}
	}
	if !found {
		t.Error("no 1.29 requirement for the backup CronJobs' native sidecar")
	}
}

// TestBackupPodsCarrySpecPodUnderWorkloadIdentity: with a location
// authenticated by workload identity, the backup Pods (CronJob template,
// the one-off Job, the offline dump) carry spec.pod's labels and
// annotations — Azure's azure.workload.identity/use label must be on the
// Pod — the owner's first and neo4jctl's winning, as on the servers'
// Pods. Without workload identity they do not (a Job Pod must not get,
// say, an Istio injection annotation it would never finish with).
func TestBackupPodsCarrySpecPodUnderWorkloadIdentity(t *testing.T) {
	c := backedUp()
	c.Spec.Backups.Storage = clusterfile.BackupLocation{URL: "azblob://bk/g", WorkloadIdentity: true}
	c.Spec.Pod = &clusterfile.PodMeta{
		Labels:      map[string]string{"azure.workload.identity/use": "true", "team": "graphs"},
		Annotations: map[string]string{"azure.workload.identity/skip-containers": "lock"},
	}
	check := func(what string, tmpl corev1.PodTemplateSpec, typ string) {
		t.Helper()
		if tmpl.Labels["azure.workload.identity/use"] != "true" || tmpl.Labels["team"] != "graphs" ||
			tmpl.Annotations["azure.workload.identity/skip-containers"] != "lock" {
			t.Errorf("%s: Pod labels %v annotations %v, want spec.pod's", what, tmpl.Labels, tmpl.Annotations)
		}
		for k, v := range manifests.BackupPodLabels(c, typ) {
			if tmpl.Labels[k] != v {
				t.Errorf("%s: label %s=%q, want neo4jctl's %q", what, k, tmpl.Labels[k], v)
			}
		}
	}
	cj := typedAs[batchv1.CronJob](t, find(render(t, c), "CronJob", manifests.BackupCronJobName(c, "FULL")))
	check("CronJob", cj.Spec.JobTemplate.Spec.Template, "FULL")
	job, err := manifests.BackupJob(c, "graphs", "FULL", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	check("Job", job.Spec.Template, "FULL")
	cc := community()
	cc.Spec.Backups = &clusterfile.Backups{Storage: clusterfile.BackupLocation{URL: "azblob://bk/g", WorkloadIdentity: true}, Encryption: clusterfile.BackupEncryption{KeysetSecret: clusterfile.SecretKeyRef{Name: "k"}}}
	cc.Spec.Pod = c.Spec.Pod
	// A reserved key in spec.pod never overrides neo4jctl's.
	cc.Spec.Pod.Labels = map[string]string{"azure.workload.identity/use": "true", "team": "graphs", manifests.LabelComponent: "mine"}
	dump, err := manifests.OfflineDumpJob(cc, "db", nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c = cc
	check("offline dump", dump.Spec.Template, manifests.BackupDump)

	without := backedUp()
	without.Spec.Pod = &clusterfile.PodMeta{Annotations: map[string]string{"sidecar.istio.io/inject": "true"}}
	cj = typedAs[batchv1.CronJob](t, find(render(t, without), "CronJob", manifests.BackupCronJobName(without, "FULL")))
	if len(cj.Spec.JobTemplate.Spec.Template.Annotations) != 0 {
		t.Errorf("without workload identity: Pod annotations %v, want none", cj.Spec.JobTemplate.Spec.Template.Annotations)
	}
}
