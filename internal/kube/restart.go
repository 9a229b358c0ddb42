package kube

import (
	"context"
	"fmt"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// RestartPod restarts one server Pod of the cluster inv names by evicting
// it: its StatefulSet recreates it, and the eviction API honours the
// cluster's PodDisruptionBudget, so a restart is refused while another
// server is away. Only a Pod the cluster's Pod selector selects
// (inv.Pods(): the cluster label, or the chart's Pod labels for a cluster
// adopted from the Helm chart) and a StatefulSet owns is evicted, and only
// the very Pod read (its uid). A Pod already gone is not an error: the
// StatefulSet is recreating it.
func (c *Client) RestartPod(ctx context.Context, ns, name string, inv InventoryRef) error {
	sel, err := labels.Parse(inv.Pods())
	if err != nil {
		return fmt.Errorf("restart Pod %s/%s: the cluster's Pod selector %q: %w", ns, name, inv.Pods(), err)
	}
	pods := c.core.Pods(ns)
	var uid types.UID
	err = c.retry(ctx, "get pod "+name, func(ctx context.Context) error {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !sel.Matches(labels.Set(p.Labels)) {
			return &NotPrunableError{Address: "Pod " + ns + "/" + name, Reason: fmt.Sprintf("it is not a server Pod of cluster %s (its labels do not match %s)", inv.Cluster, sel)}
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
