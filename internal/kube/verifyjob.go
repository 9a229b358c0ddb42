package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
)

// Exists reports whether the object obj names (kind, namespace, name)
// exists: `backup verify` says in its plan which of the objects it
// applies are new.
func (c *Client) Exists(ctx context.Context, obj *unstructured.Unstructured) (bool, error) {
	p, err := c.prepare(obj, "")
	if err != nil {
		return false, err
	}
	live, err := c.get(ctx, p)
	if err != nil {
		return false, fmt.Errorf("get %s: %w", p.address, err)
	}
	return live != nil, nil
}

// DeleteCronJobLabelled deletes CronJob namespace/name (and, in the
// background, its Jobs) when it carries label key=value; a CronJob
// without it is someone else's and is left alone. deleted is false when
// there was nothing to delete. The verification CronJob is not part of a
// cluster's apply set (manifests/verify.go says why), so it is removed
// here, when spec.backups.verification.schedule is gone, not by prune.
func (c *Client) DeleteCronJobLabelled(ctx context.Context, namespace, name, key, value string) (deleted bool, err error) {
	b, err := c.batch()
	if err != nil {
		return false, err
	}
	cj, err := b.CronJobs(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get CronJob %s/%s: %w", namespace, name, err)
	case cj.Labels[key] != value:
		return false, nil
	}
	err = b.CronJobs(namespace).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
		Preconditions:     &metav1.Preconditions{UID: &cj.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("delete CronJob %s/%s: %w", namespace, name, err)
	}
	return true, nil
}
