package kube

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretKeys returns the keys named of a Secret, those it has (a missing
// key is simply absent): the TLS stamp reads only the certificate and CA
// of the servers' TLS Secret this way, never its private key. Errors name
// the Secret, never a value; NotFound and Forbidden stay recognisable
// (IsNotFound, IsForbidden).
func (c *Client) SecretKeys(ctx context.Context, ns, name string, keys ...string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := c.retry(ctx, "read Secret "+ns+"/"+name, func(ctx context.Context) error {
		s, err := c.core.Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if v, ok := s.Data[k]; ok {
				out[k] = v
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read Secret %s/%s: %w", ns, name, err)
	}
	return out, nil
}
