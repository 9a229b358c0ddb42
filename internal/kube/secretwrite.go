package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretData is a Secret's data as read, with the resourceVersion a write
// must match.
type SecretData struct {
	Data            map[string][]byte
	ResourceVersion string
}

// ReadSecretData returns a Secret's data (password rotation reads and
// rewrites two keys of it). Errors name the Secret, never a value.
func (c *Client) ReadSecretData(ctx context.Context, ns, name string) (SecretData, error) {
	var s *corev1.Secret
	err := c.retry(ctx, "read Secret "+ns+"/"+name, func(ctx context.Context) error {
		var err error
		s, err = c.core.Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		return err
	})
	if err != nil {
		return SecretData{}, fmt.Errorf("read Secret %s/%s: %w", ns, name, err)
	}
	data := map[string][]byte{}
	for k, v := range s.Data {
		data[k] = v
	}
	return SecretData{Data: data, ResourceVersion: s.ResourceVersion}, nil
}

// UpdateSecretData sets and removes keys of a Secret in one write, only if
// the Secret is still at resourceVersion (what the caller read and decided
// on): a concurrent change fails with a conflict instead of being
// overwritten. Errors name the Secret and keys, never a value.
func (c *Client) UpdateSecretData(ctx context.Context, ns, name, resourceVersion string, set map[string][]byte, remove []string) (string, error) {
	var out string
	err := c.retry(ctx, "update Secret "+ns+"/"+name, func(ctx context.Context) error {
		s, err := c.core.Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if s.ResourceVersion != resourceVersion {
			return fmt.Errorf("the Secret changed since it was read (resourceVersion %s, now %s): someone else is writing it", resourceVersion, s.ResourceVersion)
		}
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range set {
			s.Data[k] = v
		}
		for _, k := range remove {
			delete(s.Data, k)
		}
		u, err := c.core.Secrets(ns).Update(ctx, s, metav1.UpdateOptions{FieldManager: FieldManager})
		if err != nil {
			return err
		}
		out = u.ResourceVersion
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("update Secret %s/%s: %w", ns, name, err)
	}
	return out, nil
}
