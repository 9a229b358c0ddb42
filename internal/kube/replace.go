package kube

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DeleteOrphaning deletes the object ref names with orphan propagation and
// waits until it is gone. Its dependents stay: a StatefulSet's Pods keep
// running (the garbage collector only removes their owner reference) and so
// do its ControllerRevisions and any PersistentVolumeClaim its
// persistentVolumeClaimRetentionPolicy (whenDeleted: Delete) made it own. A
// StatefulSet created afterwards with the same selector adopts them: this
// is how a StatefulSet is replaced (an immutable field such as
// volumeClaimTemplates changed) without stopping its servers.
//
// The checks are Delete's (neo4jctl's object, the observed UID). It returns
// once the object is gone, so the replacement can be created; the orphan
// finalizer keeps the object until the collector has orphaned every
// dependent.
func (c *Client) DeleteOrphaning(ctx context.Context, ref Ref) error {
	uid, err := c.deleteWith(ctx, ref, metav1.DeletePropagationOrphan)
	if err != nil || uid == "" {
		return err
	}
	m, err := c.RESTMapping(ref.GVK())
	if err != nil {
		return fmt.Errorf("delete %s: %w", ref.Address(), err)
	}
	ri := c.resourceFor(m, ref.Namespace)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var live *unstructured.Unstructured
		err := c.retry(ctx, "get "+ref.Address(), func(ctx context.Context) error {
			var err error
			live, err = ri.Get(ctx, ref.Name, metav1.GetOptions{})
			return err
		})
		switch {
		case IsNotFound(err):
			return nil
		case err != nil:
			return fmt.Errorf("wait for %s to be gone: %w", ref.Address(), err)
		case string(live.GetUID()) != uid:
			return nil // already recreated (by an earlier attempt)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to be gone (finalizers %v): %w", ref.Address(), live.GetFinalizers(), ctx.Err())
		case <-tick.C:
		}
	}
}
