package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// WaitStatefulSet waits until the StatefulSet ns/name has rolled out with
// want replicas: the controller has seen the current spec
// (observedGeneration), want Pods exist, are Ready and run the update
// revision (all updated; for a partitioned rolling update, those above the
// partition). onProgress, when set, is called with the ready count every time
// it changes (and once at the start), so apply can print "Still waiting for
// … (2/3 ready)". It watches rather than polls, and survives watch
// disconnects (an API server restart) by re-listing. It returns when ctx ends.
func (c *Client) WaitStatefulSet(ctx context.Context, ns, name string, want int, onProgress func(ready, want int)) error {
	lastReady := -1
	lw := c.singleObjectListWatch(ns, name, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return c.apps.StatefulSets(ns).List(ctx, o)
	}, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		return c.apps.StatefulSets(ns).Watch(ctx, o)
	})
	_, err := watchtools.UntilWithSync(ctx, lw, &appsv1.StatefulSet{}, nil, func(ev watch.Event) (bool, error) {
		sts, ok := ev.Object.(*appsv1.StatefulSet)
		if !ok || ev.Type == watch.Deleted {
			return false, nil
		}
		ready := int(sts.Status.ReadyReplicas)
		if ready != lastReady && onProgress != nil {
			onProgress(ready, want)
		}
		lastReady = ready
		return statefulSetRolledOut(sts, want), nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for StatefulSet %s/%s (%d/%d ready): %w", ns, name, max(lastReady, 0), want, ctx.Err())
		}
		return fmt.Errorf("wait for StatefulSet %s/%s: %w", ns, name, err)
	}
	return nil
}

// statefulSetRolledOut is kubectl rollout status's test for StatefulSets,
// plus the replica count neo4jctl asked for (a scale-in is done only when the
// surplus Pods are gone).
func statefulSetRolledOut(sts *appsv1.StatefulSet, want int) bool {
	st := sts.Status
	if st.ObservedGeneration < sts.Generation {
		return false
	}
	if sts.Spec.Replicas != nil && int(*sts.Spec.Replicas) != want {
		return false
	}
	if int(st.Replicas) != want || int(st.ReadyReplicas) != want {
		return false
	}
	if sts.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		// Pods are replaced by whoever deletes them; readiness is all the
		// controller can vouch for.
		return true
	}
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil && *ru.Partition > 0 {
		return int(st.UpdatedReplicas) >= want-int(*ru.Partition)
	}
	return int(st.UpdatedReplicas) == want && st.CurrentRevision == st.UpdateRevision
}

// WaitPodReady waits until Pod ns/name is Ready (the Pod may not exist yet).
// A Pod that ends (Succeeded or Failed) is an error: it will never be Ready.
func (c *Client) WaitPodReady(ctx context.Context, ns, name string) error {
	lw := c.singleObjectListWatch(ns, name, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return c.core.Pods(ns).List(ctx, o)
	}, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		return c.core.Pods(ns).Watch(ctx, o)
	})
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, nil, func(ev watch.Event) (bool, error) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok || ev.Type == watch.Deleted {
			return false, nil
		}
		switch p.Status.Phase {
		case corev1.PodSucceeded, corev1.PodFailed:
			return false, fmt.Errorf("pod %s/%s is %s and will not become Ready", ns, name, p.Status.Phase)
		}
		return podReady(p) && p.DeletionTimestamp == nil, nil
	})
	if err != nil {
		return fmt.Errorf("wait for Pod %s/%s to be Ready: %w", ns, name, err)
	}
	return nil
}

func (c *Client) singleObjectListWatch(ns, name string,
	list func(context.Context, metav1.ListOptions) (runtime.Object, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error),
) *cache.ListWatch {
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return list(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return watchFn(ctx, o)
		},
	}
}
