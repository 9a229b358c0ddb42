package kube

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DeleteClaim deletes the claim name of cluster in namespace ns, only if
// it is still the claim the plan saw (uid) and still carries the cluster's
// label: a claim is the data of a server, and is never deleted by name
// alone. A claim already gone is not an error.
func (c *Client) DeleteClaim(ctx context.Context, ns, name, cluster, uid string) error {
	pvcs := c.core.PersistentVolumeClaims(ns)
	var live string
	err := c.retry(ctx, "get persistentvolumeclaim "+name, func(ctx context.Context) error {
		p, err := pvcs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := p.Labels[ClusterLabel]; got != cluster {
			return &NotPrunableError{Address: "PersistentVolumeClaim " + ns + "/" + name, Reason: fmt.Sprintf("its %s label is %q, not %q", ClusterLabel, got, cluster)}
		}
		live = string(p.UID)
		return nil
	})
	switch {
	case IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("delete PersistentVolumeClaim %s/%s: %w", ns, name, err)
	case uid != "" && live != uid:
		return fmt.Errorf("delete PersistentVolumeClaim %s/%s: the claim was replaced since it was observed (uid %s, now %s); plan again", ns, name, uid, live)
	}
	u := types.UID(live)
	err = c.retry(ctx, "delete persistentvolumeclaim "+name, func(ctx context.Context) error {
		return pvcs.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &u}})
	})
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete PersistentVolumeClaim %s/%s: %w", ns, name, err)
	}
	return nil
}

// ClaimGone reports whether claim name in ns no longer exists. The claim
// protection finalizer keeps a deleted claim until no Pod uses it; a Pod
// created while it lingers would be bound to the old volume.
func (c *Client) ClaimGone(ctx context.Context, ns, name string) (bool, error) {
	_, err := c.core.PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case IsNotFound(err):
		return true, nil
	case err != nil:
		return false, err
	}
	return false, nil
}

func replicasIn(obj map[string]any) int64 {
	spec, _ := obj["spec"].(map[string]any)
	switch v := spec["replicas"].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case nil:
		return 1 // the API server's default
	}
	return 0
}
