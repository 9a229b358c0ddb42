package kube

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

func TestStatefulSetRolledOut(t *testing.T) {
	sts := func(mut func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
		s := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Generation: 2},
			Spec:       appsv1.StatefulSetSpec{Replicas: ptr.To(int32(3))},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, Replicas: 3, ReadyReplicas: 3, UpdatedReplicas: 3,
				CurrentRevision: "r2", UpdateRevision: "r2"},
		}
		if mut != nil {
			mut(s)
		}
		return s
	}
	tests := []struct {
		name string
		sts  *appsv1.StatefulSet
		want int
		ok   bool
	}{
		{"rolled out", sts(nil), 3, true},
		{"controller has not seen the spec", sts(func(s *appsv1.StatefulSet) { s.Status.ObservedGeneration = 1 }), 3, false},
		{"one not ready", sts(func(s *appsv1.StatefulSet) { s.Status.ReadyReplicas = 2 }), 3, false},
		{"revision still rolling", sts(func(s *appsv1.StatefulSet) { s.Status.CurrentRevision = "r1" }), 3, false},
		{"scale-in not finished: surplus pod still exists", sts(func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To(int32(2)) }), 2, false},
		{"spec says other replicas than wanted", sts(nil), 5, false},
		{"partitioned rollout: pods above the partition updated", sts(func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To(int32(2))}}
			s.Status.UpdatedReplicas, s.Status.CurrentRevision = 1, "r1"
		}), 3, true},
		{"OnDelete: readiness is enough", sts(func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
			s.Status.UpdatedReplicas, s.Status.CurrentRevision = 0, "r1"
		}), 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statefulSetRolledOut(tt.sts, tt.want); got != tt.ok {
				t.Errorf("statefulSetRolledOut() = %v, want %v", got, tt.ok)
			}
		})
	}
}

func TestPodState(t *testing.T) {
	owned := func(name, owner string, ready corev1.ConditionStatus) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "g", OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "apps/v1", Kind: "StatefulSet", Name: owner, Controller: ptr.To(true)}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}},
		}
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want state.Pod
		ok   bool
	}{
		{"ready server", owned("prod-core-2", "prod-core", corev1.ConditionTrue),
			state.Pod{Name: "prod-core-2", Namespace: "g", StatefulSet: "prod-core", Ordinal: 2, Ready: true, Phase: "Running"}, true},
		{"not ready", owned("prod-core-0", "prod-core", corev1.ConditionFalse),
			state.Pod{Name: "prod-core-0", Namespace: "g", StatefulSet: "prod-core", Ordinal: 0, Phase: "Running"}, true},
		{"job pod", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "backup-x", OwnerReferences: []metav1.OwnerReference{
			{Kind: "Job", Name: "backup", Controller: ptr.To(true)}}}}, state.Pod{}, false},
		{"name not <sts>-<n>", owned("other-1", "prod-core", corev1.ConditionTrue), state.Pod{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := podState(tt.pod)
			if ok != tt.ok {
				t.Fatalf("podState() ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("podState() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
