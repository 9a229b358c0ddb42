package kube_test

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/neo4jctl/neo4jctl/internal/kube"
)

// TestRestartPodOfAdoptedHelmCluster: a cluster adopted from the official
// Helm chart keeps the chart's Pod labels (helm.neo4j.com/neo4j.name,
// helm.neo4j.com/instance, helm.neo4j.com/pod_category,
// templates/neo4j-statefulset.yaml), not neo4jctl's cluster label, so
// RestartPod finds its servers by the inventory's Pod selector. It still
// refuses a Pod that selector does not select: another chart cluster's
// server in the same namespace, and a neo4jctl cluster's server.
func TestRestartPodOfAdoptedHelmCluster(t *testing.T) {
	c, cs, ns := setup(t)
	ctx := testContext(t)
	chartPod := func(name, release string) map[string]string {
		return map[string]string{"app": name, "helm.neo4j.com/neo4j.name": name, "helm.neo4j.com/instance": release,
			"helm.neo4j.com/pod_category": "neo4j-instance", "helm.neo4j.com/clustering": "true"}
	}
	inv := kube.InventoryRef{Namespace: ns, Cluster: "graph",
		PodSelector: labels.SelectorFromSet(labels.Set{"helm.neo4j.com/neo4j.name": "graph", "helm.neo4j.com/pod_category": "neo4j-instance"}).String()}
	uids := map[string]types.UID{}
	for sts, l := range map[string]map[string]string{"graph-1": chartPod("graph", "graph-1"),
		"other-1": chartPod("other", "other-1"), "mine": {kube.ClusterLabel: "mine"}} {
		uids[sts+"-0"] = statefulSetPod(t, ctx, cs, ns, sts, l)
	}

	if err := c.RestartPod(ctx, ns, "graph-1-0", inv); err != nil {
		t.Fatalf("RestartPod of the adopted cluster's own server: %v", err)
	}
	waitRestarted(t, ctx, cs, ns, "graph-1-0", uids["graph-1-0"])
	for _, name := range []string{"other-1-0", "mine-0"} {
		err := c.RestartPod(ctx, ns, name, inv)
		var np *kube.NotPrunableError
		if !errors.As(err, &np) {
			t.Errorf("RestartPod(%s) = %v, want a refusal: it is not a server of cluster graph", name, err)
		}
		p, gerr := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if gerr != nil || p.UID != uids[name] || p.DeletionTimestamp != nil {
			t.Errorf("%s was evicted (get: %v)", name, gerr)
		}
	}
	// A neo4jctl cluster (no Pod selector of its own) is found by its label.
	if err := c.RestartPod(ctx, ns, "mine-0", kube.InventoryRef{Namespace: ns, Cluster: "mine"}); err != nil {
		t.Errorf("RestartPod of a neo4jctl cluster's Pod: %v", err)
	}
	waitRestarted(t, ctx, cs, ns, "mine-0", uids["mine-0"])
}

// statefulSetPod creates a one-replica StatefulSet name whose Pods carry
// l and returns the uid of its Pod once the controller made it.
func statefulSetPod(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, l map[string]string) types.UID {
	t.Helper()
	one := int32(1)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.StatefulSetSpec{Replicas: &one, ServiceName: name, Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "neo4j", Image: "neo4j:5.26.0-enterprise"}}}}}}
	if _, err := cs.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var uid types.UID
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name+"-0", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		uid = p.UID
		return true, nil
	})
	if err != nil {
		t.Fatalf("Pod %s-0 never appeared: %v", name, err)
	}
	return uid
}

// waitRestarted waits until Pod name is no longer the one of uid.
func waitRestarted(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string, uid types.UID) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return err != nil || p.UID != uid || p.DeletionTimestamp != nil, nil
	})
	if err != nil {
		t.Errorf("%s was not evicted: %v", name, err)
	}
}
