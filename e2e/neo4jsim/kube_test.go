package neo4jsim

import (
	"context"
	"fmt"
	"testing"
	"time"

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
