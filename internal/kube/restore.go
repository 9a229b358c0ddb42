package kube

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	networkingv1client "k8s.io/client-go/kubernetes/typed/networking/v1"
)

// RestoreComponent is the app.kubernetes.io/component of the objects
// `neo4jctl restore` creates for the duration of one restore (the load
// Job, the seed Pod, its Service and NetworkPolicy). Only objects carrying
// it are ever deleted by DeleteRestoreObject.
const RestoreComponent = "neo4jctl-restore"

// Job returns a Job, or nil when there is none.
func (c *Client) Job(ctx context.Context, ns, name string) (*batchv1.Job, error) {
	b, err := c.batch()
	if err != nil {
		return nil, err
	}
	j, err := b.Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get Job %s/%s: %w", ns, name, err)
	}
	return j, nil
}

// Pod returns a Pod, or nil when there is none.
func (c *Client) Pod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	p, err := c.core.Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get Pod %s/%s: %w", ns, name, err)
	}
	return p, nil
}

func (c *Client) networking() (networkingv1client.NetworkingV1Interface, error) {
	return networkingv1client.NewForConfig(c.config)
}

// CreateRestoreObject creates one object of a restore (a ConfigMap,
// NetworkPolicy, Service or Pod) unless it exists already: a rerun after
// an interruption finds it and goes on. Create the NetworkPolicy before
// the Service and Pod, so the seed is never served unrestricted.
func (c *Client) CreateRestoreObject(ctx context.Context, obj runtime.Object) error {
	n, err := c.networking()
	if err != nil {
		return err
	}
	opts := metav1.CreateOptions{FieldManager: FieldManager}
	var what string
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		what = "ConfigMap " + o.Namespace + "/" + o.Name
		_, err = c.core.ConfigMaps(o.Namespace).Create(ctx, o, opts)
	case *networkingv1.NetworkPolicy:
		what = "NetworkPolicy " + o.Namespace + "/" + o.Name
		_, err = n.NetworkPolicies(o.Namespace).Create(ctx, o, opts)
	case *corev1.Service:
		what = "Service " + o.Namespace + "/" + o.Name
		_, err = c.core.Services(o.Namespace).Create(ctx, o, opts)
	case *corev1.Pod:
		what = "Pod " + o.Namespace + "/" + o.Name
		_, err = c.core.Pods(o.Namespace).Create(ctx, o, opts)
	default:
		return fmt.Errorf("create restore object: unsupported %T", obj)
	}
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create %s: %w", what, err)
	}
	return nil
}

// DeleteRestoreObject deletes one object a restore created (kind Job,
// Pod, Service, NetworkPolicy or ConfigMap) if it exists and carries the
// RestoreComponent label; one without it is left alone and reported.
func (c *Client) DeleteRestoreObject(ctx context.Context, kind, ns, name string) error {
	n, err := c.networking()
	if err != nil {
		return err
	}
	b, err := c.batch()
	if err != nil {
		return err
	}
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	var labels map[string]string
	var get func() (metav1.Object, error)
	var remove func() error
	switch kind {
	case "Job":
		get = func() (metav1.Object, error) { return b.Jobs(ns).Get(ctx, name, metav1.GetOptions{}) }
		remove = func() error { return b.Jobs(ns).Delete(ctx, name, del) }
	case "ConfigMap":
		get = func() (metav1.Object, error) { return c.core.ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}) }
		remove = func() error { return c.core.ConfigMaps(ns).Delete(ctx, name, del) }
	case "Pod":
		get = func() (metav1.Object, error) { return c.core.Pods(ns).Get(ctx, name, metav1.GetOptions{}) }
		remove = func() error { return c.core.Pods(ns).Delete(ctx, name, del) }
	case "Service":
		get = func() (metav1.Object, error) { return c.core.Services(ns).Get(ctx, name, metav1.GetOptions{}) }
		remove = func() error { return c.core.Services(ns).Delete(ctx, name, del) }
	case "NetworkPolicy":
		get = func() (metav1.Object, error) { return n.NetworkPolicies(ns).Get(ctx, name, metav1.GetOptions{}) }
		remove = func() error { return n.NetworkPolicies(ns).Delete(ctx, name, del) }
	default:
		return fmt.Errorf("delete restore object: unknown kind %s", kind)
	}
	obj, err := get()
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get %s %s/%s: %w", kind, ns, name, err)
	}
	labels = obj.GetLabels()
	if labels["app.kubernetes.io/component"] != RestoreComponent {
		return fmt.Errorf("%s %s/%s was not created by neo4jctl restore (no app.kubernetes.io/component=%s label); left alone", kind, ns, name, RestoreComponent)
	}
	if err := remove(); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s %s/%s: %w", kind, ns, name, err)
	}
	return nil
}
