package kube

import (
	"context"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NamespaceNames lists the namespaces' names, sorted, for shell completion
// of --namespace. One LIST, no retries: a completion that cannot reach the
// API server offers nothing rather than making the shell wait.
func (c *Client) NamespaceNames(ctx context.Context) ([]string, error) {
	list, err := c.core.Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(list.Items))
	for _, ns := range list.Items {
		names = append(names, ns.Name)
	}
	sort.Strings(names)
	return names, nil
}
