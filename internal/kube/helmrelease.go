package kube

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LabeledData is one key of a Secret with the Secret's name and labels.
type LabeledData struct {
	Name   string
	Labels map[string]string
	Data   []byte
}

// SecretsData lists the Secrets of ns matching selector and returns key of
// each (import reads Helm's release records with it: owner=helm). The
// records hold the chart values, passwords included: callers decode them
// and never print them.
func (c *Client) SecretsData(ctx context.Context, ns, selector, key string) ([]LabeledData, error) {
	var list *corev1.SecretList
	err := c.retry(ctx, "list Secrets "+ns, func(ctx context.Context) error {
		var err error
		list, err = c.core.Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list Secrets in %s (%s): %w", ns, selector, err)
	}
	out := make([]LabeledData, 0, len(list.Items))
	for _, s := range list.Items {
		out = append(out, LabeledData{Name: s.Name, Labels: s.Labels, Data: s.Data[key]})
	}
	return out, nil
}

// StatefulSetSummary is what import reads of a StatefulSet.
type StatefulSetSummary struct {
	Name     string
	Labels   map[string]string
	Replicas int32
	// Images maps container names to images.
	Images map[string]string
}

// StatefulSets lists the StatefulSets of ns matching selector.
func (c *Client) StatefulSets(ctx context.Context, ns, selector string) ([]StatefulSetSummary, error) {
	var list *appsv1.StatefulSetList
	err := c.retry(ctx, "list StatefulSets "+ns, func(ctx context.Context) error {
		var err error
		list, err = c.apps.StatefulSets(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list StatefulSets in %s (%s): %w", ns, selector, err)
	}
	out := make([]StatefulSetSummary, 0, len(list.Items))
	for _, s := range list.Items {
		sum := StatefulSetSummary{Name: s.Name, Labels: s.Labels, Replicas: 1, Images: map[string]string{}}
		if s.Spec.Replicas != nil {
			sum.Replicas = *s.Spec.Replicas
		}
		for _, ctr := range s.Spec.Template.Spec.Containers {
			sum.Images[ctr.Name] = ctr.Image
		}
		out = append(out, sum)
	}
	return out, nil
}

// ClaimRequests maps the names of the PersistentVolumeClaims of ns to their
// requested storage (spec.resources.requests.storage): import reads the
// sizes the chart's claims have now, resized or not.
func (c *Client) ClaimRequests(ctx context.Context, ns string) (map[string]string, error) {
	var list *corev1.PersistentVolumeClaimList
	err := c.retry(ctx, "list PersistentVolumeClaims "+ns, func(ctx context.Context) error {
		var err error
		list, err = c.core.PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list PersistentVolumeClaims in %s: %w", ns, err)
	}
	out := make(map[string]string, len(list.Items))
	for _, pvc := range list.Items {
		if q, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			out[pvc.Name] = q.String()
		}
	}
	return out, nil
}

// DeleteHelmReleaseRecords deletes the Secrets in which Helm 3 keeps a
// release's history (sh.helm.release.v1.<release>.v<N>, labelled
// owner=helm,name=<release>) and nothing else: a Secret matching the labels
// but not the name is left alone. It returns the names it deleted.
func (c *Client) DeleteHelmReleaseRecords(ctx context.Context, ns, release string) ([]string, error) {
	var list *corev1.SecretList
	selector := "owner=helm,name=" + release
	err := c.retry(ctx, "list Secrets "+ns, func(ctx context.Context) error {
		var err error
		list, err = c.core.Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list Secrets in %s (%s): %w", ns, selector, err)
	}
	prefix := "sh.helm.release.v1." + release + ".v"
	var deleted []string
	for _, s := range list.Items {
		if !strings.HasPrefix(s.Name, prefix) || s.Type != "helm.sh/release.v1" {
			continue
		}
		uid := s.UID
		err := c.retry(ctx, "delete Secret "+s.Name, func(ctx context.Context) error {
			err := c.core.Secrets(ns).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		})
		if err != nil {
			return deleted, fmt.Errorf("delete Secret %s/%s: %w", ns, s.Name, err)
		}
		deleted = append(deleted, s.Name)
	}
	return deleted, nil
}
