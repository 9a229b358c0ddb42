package kube

import (
	"context"
	"fmt"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// RestartPod restarts one server Pod of cluster by evicting it: its
// StatefulSet recreates it, and the eviction API honours the cluster's
// PodDisruptionBudget, so a restart is refused while another server is
// away. Only a Pod that carries the cluster's label and belongs to a
// StatefulSet is evicted, and only the very Pod read (its uid). A Pod
// already gone is not an error: the StatefulSet is recreating it.
func (c *Client) RestartPod(ctx context.Context, ns, name, cluster string) error {
	pods := c.core.Pods(ns)
	var uid types.UID
	err := c.retry(ctx, "get pod "+name, func(ctx context.Context) error {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := p.Labels[ClusterLabel]; got != cluster {
			return &NotPrunableError{Address: "Pod " + ns + "/" + name, Reason: fmt.Sprintf("its %s label is %q, not %q", ClusterLabel, got, cluster)}
		}
		owned := false
		for _, o := range p.OwnerReferences {
			owned = owned || o.Kind == "StatefulSet"
		}
		if !owned {
			return &NotPrunableError{Address: "Pod " + ns + "/" + name, Reason: "no StatefulSet owns it, so nothing would recreate it"}
		}
		uid = p.UID
		return nil
	})
	switch {
	case IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("restart Pod %s/%s: %w", ns, name, err)
	}
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}}
	err = c.retry(ctx, "evict pod "+name, func(ctx context.Context) error {
		return pods.EvictV1(ctx, ev)
	})
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("restart Pod %s/%s (eviction): %w", ns, name, err)
	}
	return nil
}
