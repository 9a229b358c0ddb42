package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	watchtools "k8s.io/client-go/tools/watch"
)

// WaitPodUpdated waits until Pod pod of StatefulSet ns/sts runs the
// StatefulSet's update revision and is Ready: the gate of one Pod in a
// partitioned rolling update. It first waits for the controller to have
// seen the StatefulSet's current spec (observedGeneration), so that the
// update revision it compares with is the one the last apply produced, then
// watches the Pod; the old Pod (another revision, or terminating) does not
// count, so calling it right after lowering the partition cannot return
// before the controller has replaced the Pod. onProgress, when set, gets a
// short status each time it changes. Watches survive disconnects by
// re-listing; it returns when ctx ends.
func (c *Client) WaitPodUpdated(ctx context.Context, ns, sts, pod string, onProgress func(status string)) error {
	report := func(s string) {
		if onProgress != nil {
			onProgress(s)
		}
	}
	var revision string
	lw := c.singleObjectListWatch(ns, sts, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return c.apps.StatefulSets(ns).List(ctx, o)
	}, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		return c.apps.StatefulSets(ns).Watch(ctx, o)
	})
	report("the StatefulSet controller to see the new partition")
	_, err := watchtools.UntilWithSync(ctx, lw, &appsv1.StatefulSet{}, nil, func(ev watch.Event) (bool, error) {
		s, ok := ev.Object.(*appsv1.StatefulSet)
		if !ok {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return false, fmt.Errorf("StatefulSet %s/%s was deleted", ns, sts)
		}
		if s.Status.ObservedGeneration < s.Generation || s.Status.UpdateRevision == "" {
			return false, nil
		}
		revision = s.Status.UpdateRevision
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("wait for StatefulSet %s/%s to observe its spec: %w", ns, sts, err)
	}

	last := ""
	lw = c.singleObjectListWatch(ns, pod, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return c.core.Pods(ns).List(ctx, o)
	}, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		return c.core.Pods(ns).Watch(ctx, o)
	})
	_, err = watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, nil, func(ev watch.Event) (bool, error) {
		status := "Pod " + pod + " to be replaced"
		done := false
		if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type != watch.Deleted {
			switch {
			case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
				if p.Labels[appsv1.ControllerRevisionHashLabelKey] == revision {
					return false, fmt.Errorf("pod %s/%s is %s and will not become Ready", ns, pod, p.Status.Phase)
				}
			case p.DeletionTimestamp != nil || p.Labels[appsv1.ControllerRevisionHashLabelKey] != revision:
				status = "Pod " + pod + " to be replaced (it runs the old revision)"
			case !podReady(p):
				status = "Pod " + pod + " (updated) to be Ready"
			default:
				done = true
			}
		} else if ev.Type == watch.Deleted {
			status = "Pod " + pod + " to be recreated"
		}
		if status != last && !done {
			report(status)
			last = status
		}
		return done, nil
	})
	if err != nil {
		return fmt.Errorf("wait for Pod %s/%s to run revision %s and be Ready: %w", ns, pod, revision, err)
	}
	return nil
}
