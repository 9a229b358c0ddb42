package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReadSecretKey returns one key of a Secret (the Neo4j password). Errors name
// the Secret and key — and, for a missing key, the keys that do exist — but
// never a value.
func (c *Client) ReadSecretKey(ctx context.Context, ns, name, key string) ([]byte, error) {
	var s *corev1.Secret
	err := c.retry(ctx, "read Secret "+ns+"/"+name, func(ctx context.Context) error {
		var err error
		s, err = c.core.Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read Secret %s/%s: %w", ns, name, err)
	}
	v, ok := s.Data[key]
	if !ok {
		keys := make([]string, 0, len(s.Data))
		for k := range s.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("Secret %s/%s has no key %q (keys: %s)", ns, name, key, strings.Join(keys, ", "))
	}
	return v, nil
}
