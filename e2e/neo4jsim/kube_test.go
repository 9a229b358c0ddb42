package neo4jsim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func statefulSet(name string, replicas int32) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: name + "-headless",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "neo4j", Image: "neo4j:5.26-enterprise",
					Ports:        []corev1.ContainerPort{{Name: "bolt", ContainerPort: 7687}},
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: ptr(testenv.StorageClassName),
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceStorage: resource.MustParse("1Gi"),
					}},
				},
			}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// scale patches replicas: a merge patch cannot conflict with the
// controller's concurrent status updates, an Update of the scale can.
func scale(t *testing.T, cs kubernetes.Interface, ns, name string, n int32) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, n))
	if _, err := cs.AppsV1().StatefulSets(ns).Patch(context.Background(), name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFollowStatefulSet(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, statefulSet("graph", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	s := startSim(t, Config{Servers: -1, TransitionDelay: -1})
	listened := make(chan string, 10)
	err = s.FollowStatefulSet(ctx, env.RESTConfig(), FollowOptions{
		Namespace: ns, StatefulSet: "graph", InitialMembers: 3,
		OnListen: func(p *corev1.Pod, srv ServerInfo) { listened <- p.Name },
	})
	if err != nil {
		t.Fatalf("FollowStatefulSet: %v", err)
	}
	adv := func(i int) string {
		return fmt.Sprintf("graph-%d.graph-headless.%s.svc.cluster.local:7687", i, ns)
	}
	byAddr := func() map[string]ServerInfo {
		m := map[string]ServerInfo{}
		for _, srv := range s.Servers() {
			m[srv.Advertised] = srv
		}
		return m
	}
	waitLong(t, "3 bootstrap servers", func() bool {
		m := byAddr()
		for i := range 3 {
			if m[adv(i)].State != StateEnabled || m[adv(i)].Health != HealthAvailable {
				return false
			}
		}
		return true
	})
	if len(listened) != 3 {
		t.Errorf("OnListen called %d times, want 3", len(listened))
	}

	// The real driver sees the advertised Pod DNS names in SHOW SERVERS.
	d := newDriver(t, s.URI("bolt"), testPassword)
	rows := mustRun(t, d, "SHOW SERVERS YIELD address, state", nil)
	if len(rows) != 3 {
		t.Fatalf("SHOW SERVERS: %v", rows)
	}
	for _, r := range rows {
		if _, ok := byAddr()[r["address"].(string)]; !ok {
			t.Errorf("unexpected address %v", r["address"])
		}
	}
	if got := s.Allocations("neo4j"); len(got) != 1 {
		t.Errorf("default database allocations after bootstrap: %v", got)
	}

	// Scale out: the new Pod joins as a Free server.
	scale(t, cs, ns, "graph", 4)
	waitLong(t, "graph-3 as a Free server", func() bool {
		srv := byAddr()[adv(3)]
		return srv.State == StateFree && srv.Health == HealthAvailable
	})
	first := byAddr()[adv(3)]
	mustRun(t, d, "ENABLE SERVER $id", map[string]any{"id": first.ID})

	// Scale in without DEALLOCATE: the server becomes Unavailable, keeps its
	// state; scaling out again brings the same serverId back (same PVC).
	scale(t, cs, ns, "graph", 3)
	waitLong(t, "graph-3 Unavailable", func() bool { return byAddr()[adv(3)].Health == HealthUnavailable })
	if got := byAddr()[adv(3)]; got.ID != first.ID || got.State != StateEnabled {
		t.Errorf("after scale-in: %+v, want id %s still Enabled", got, first.ID)
	}
	scale(t, cs, ns, "graph", 4)
	waitLong(t, "graph-3 Available again", func() bool { return byAddr()[adv(3)].Health == HealthAvailable })
	if got := byAddr()[adv(3)]; got.ID != first.ID {
		t.Errorf("returning Pod got serverId %s, want %s (its volume is the same)", got.ID, first.ID)
	}
	if n := len(s.Servers()); n != 4 {
		t.Errorf("got %d servers, want 4 (no duplicate for the returning Pod)", n)
	}
}

// Each server is configured by its own Pod, read when it (re)starts: a
// ConfigMap or image change reaches a server only when its Pod restarts,
// so an upgrade or a configuration change that did not happen stays
// visible; the environment is expanded per Pod; a late joiner configured
// PRIMARY hosts system as a primary.
func TestFollowerReadsEachPodsConfigAtStart(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "graph-conf"},
		Data: map[string]string{"neo4j.conf": "# rendered\nserver.memory.heap.max_size=384m\ndb.logs.query.enabled=INFO\n"}}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sts := statefulSet("graph", 3)
	sts.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	pod := &sts.Spec.Template.Spec
	pod.Volumes = append(pod.Volumes, corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "graph-conf"}}}})
	ctr := &pod.Containers[0]
	ctr.Image = "neo4j:5.26.0-enterprise"
	ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: "config", MountPath: "/config"})
	ctr.Env = []corev1.EnvVar{
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "NEO4J_server_cluster_system__database__mode", Value: "PRIMARY"},
		{Name: "NEO4J_initial_server_tags", Value: "$(POD_NAME)"},
	}
	if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s := startSim(t, Config{Servers: -1, TransitionDelay: -1, Version: "5.26.0"})
	if err := s.FollowStatefulSet(ctx, env.RESTConfig(), FollowOptions{Namespace: ns, StatefulSet: "graph", InitialMembers: 3}); err != nil {
		t.Fatal(err)
	}
	adv := func(i int) string { return fmt.Sprintf("graph-%d.graph-headless.%s.svc.cluster.local:7687", i, ns) }
	server := func(i int) ServerInfo {
		for _, srv := range s.Servers() {
			if srv.Advertised == adv(i) {
				return srv
			}
		}
		return ServerInfo{}
	}
	waitLong(t, "3 bootstrap servers", func() bool {
		for i := range 3 {
			if srv := server(i); srv.State != StateEnabled || srv.Health != HealthAvailable {
				return false
			}
		}
		return true
	})
	// graph-1 never restarts here: a connection to a restarting server
	// breaks, as it would with Neo4j.
	d := newDriver(t, "bolt://"+server(1).Listen, testPassword)
	versions := func() map[string]any {
		out := map[string]any{}
		for _, r := range mustRun(t, d, "SHOW SERVERS YIELD address, version, tags", nil) {
			out[r["address"].(string)] = r["version"]
		}
		return out
	}
	for i := range 3 {
		srv := server(i)
		if v, _ := settingOn(t, srv.Listen, "server.memory.heap.max_size"); v != "384m" {
			t.Errorf("graph-%d heap: %v, want 384m from its ConfigMap", i, v)
		}
		// initial.server.tags=$(POD_NAME): expanded per Pod, used when the
		// bootstrap member was enabled.
		if tags := serverRow(t, d, srv.ID)["tags"]; cmp.Diff([]any{fmt.Sprintf("graph-%d", i)}, tags) != "" {
			t.Errorf("graph-%d tags: %v", i, tags)
		}
	}

	// A new revision: another ConfigMap content and image. Nothing restarts
	// yet (OnDelete), so nothing changes.
	cm.Data["neo4j.conf"] = "server.memory.heap.max_size=512m\ndb.logs.query.enabled=INFO\n"
	if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"neo4j","image":"neo4j:5.26.1-enterprise"}]}}}}`)
	if _, err := cs.AppsV1().StatefulSets(ns).Patch(ctx, "graph", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	g0 := server(0)
	dg0 := newDriver(t, "bolt://"+g0.Listen, testPassword)
	mustRun(t, dg0, "CALL dbms.setConfigValue('db.logs.query.enabled', 'OFF')", nil)
	time.Sleep(500 * time.Millisecond)
	for i, v := range versions() {
		if v != "5.26.0" {
			t.Errorf("%s reports %v before any restart, want 5.26.0", i, v)
		}
	}

	// graph-2 restarts in a Pod of the new revision: only it runs 5.26.1
	// and 512m, with the same serverId (same volume).
	before := server(2)
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "graph-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "graph-2 restarted on 5.26.1", func() bool {
		return server(2).Health == HealthAvailable && versions()[adv(2)] == "5.26.1"
	})
	if got := server(2).ID; got != before.ID {
		t.Errorf("graph-2 came back as %s, want %s", got, before.ID)
	}
	want := map[string]any{adv(0): "5.26.0", adv(1): "5.26.0", adv(2): "5.26.1"}
	if diff := cmp.Diff(want, versions()); diff != "" {
		t.Errorf("versions after one restart (-want +got):\n%s", diff)
	}
	for i, want := range []string{"384m", "384m", "512m"} {
		if v, _ := settingOn(t, server(i).Listen, "server.memory.heap.max_size"); v != want {
			t.Errorf("graph-%d heap: %v, want %s", i, v, want)
		}
	}
	if v, _ := settingOn(t, g0.Listen, "db.logs.query.enabled"); v != "OFF" {
		t.Errorf("graph-0 live change: %v, want OFF until it restarts", v)
	}

	// graph-0 restarts: its live change is gone, its new config is read.
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "graph-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "graph-0 restarted on 5.26.1", func() bool {
		return server(0).Health == HealthAvailable && versions()[adv(0)] == "5.26.1"
	})
	if v, _ := settingOn(t, server(0).Listen, "db.logs.query.enabled"); v != "INFO" {
		t.Errorf("graph-0 after restart: db.logs.query.enabled %v, want INFO (setConfigValue does not persist)", v)
	}

	// A server kept down after its Pod restarted started with that Pod's
	// configuration all the same: when it rejoins, it runs it.
	cm.Data["neo4j.conf"] = "server.memory.heap.max_size=640m\ndb.logs.query.enabled=INFO\n"
	if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	g2 := server(2)
	if err := s.SetDownAfterRestart(g2.ID, true); err != nil {
		t.Fatal(err)
	}
	old, err := cs.CoreV1().Pods(ns).Get(ctx, "graph-2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "graph-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "graph-2's Pod back and Ready", func() bool {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "graph-2", metav1.GetOptions{})
		return err == nil && p.UID != old.UID && podReady(p)
	})
	time.Sleep(500 * time.Millisecond) // the follower sees the Ready Pod
	if err := s.SetDownAfterRestart(g2.ID, false); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "graph-2's server back", func() bool { return server(2).Health == HealthAvailable })
	if v, _ := settingOn(t, server(2).Listen, "server.memory.heap.max_size"); v != "640m" {
		t.Errorf("graph-2 rejoined with heap %v, want 640m from the Pod it started in", v)
	}

	// A late joiner configured PRIMARY joins Free and hosts system as a
	// primary.
	scale(t, cs, ns, "graph", 4)
	waitLong(t, "graph-3 Free", func() bool { return server(3).State == StateFree && server(3).Health == HealthAvailable })
	if role := systemRoles(t, d)[server(3).ID]; role != rolePrimary {
		t.Errorf("graph-3 system role %v, want primary (its system_database_mode)", role)
	}
}

// Health is Neo4j's view, not Kubernetes': a server whose process hangs is
// Unavailable in SHOW SERVERS while its Pod stays Ready, whatever events
// the Pod goes through, until the fault is lifted.
func TestUnavailableWhilePodReady(t *testing.T) {
	env := testenv.Shared(t)
	ns := testenv.Namespace(t, env)
	cs, err := env.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, statefulSet("graph", 3), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s := startSim(t, Config{Servers: -1, TransitionDelay: -1})
	if err := s.FollowStatefulSet(ctx, env.RESTConfig(), FollowOptions{Namespace: ns, StatefulSet: "graph", InitialMembers: 3}); err != nil {
		t.Fatal(err)
	}
	adv := fmt.Sprintf("graph-1.graph-headless.%s.svc.cluster.local:7687", ns)
	var id string
	waitLong(t, "3 servers", func() bool {
		n := 0
		for _, srv := range s.Servers() {
			if srv.Health == HealthAvailable {
				n++
			}
			if srv.Advertised == adv {
				id = srv.ID
			}
		}
		return n == 3 && id != ""
	})
	if err := s.SetAvailable(id, false); err != nil {
		t.Fatal(err)
	}
	// A Pod event (a label change) must not bring the server back.
	patch := []byte(`{"metadata":{"labels":{"touched":"yes"}}}`)
	if _, err := cs.CoreV1().Pods(ns).Patch(ctx, "graph-1", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, s.URI("bolt"), testPassword)
	waitLong(t, "the patched Pod seen", func() bool {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "graph-1", metav1.GetOptions{})
		return err == nil && p.Labels["touched"] == "yes" && podReady(p)
	})
	time.Sleep(300 * time.Millisecond) // let the informer deliver the update
	if row := serverRow(t, d, id); row["health"] != HealthUnavailable {
		t.Errorf("server of a Ready Pod after the fault: health %v, want Unavailable", row["health"])
	}
	if err := s.SetAvailable(id, true); err != nil {
		t.Fatal(err)
	}
	if row := serverRow(t, d, id); row["health"] != HealthAvailable {
		t.Errorf("after lifting the fault: health %v, want Available", row["health"])
	}
}
