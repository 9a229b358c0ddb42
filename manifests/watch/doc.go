// Package watch renders the Kubernetes objects that run `neo4jctl watch` in
// a cluster: its Deployment, ServiceAccount, a least-privilege Role and
// RoleBinding listing exactly the verbs and resources watch uses, a
// Service, ServiceMonitor and PrometheusRule for its metrics, and a Grafana
// dashboard. Like manifests, it is pure: Render contacts nothing.
//
// The lead's `neo4jctl render --watch` hooks in with one line:
//
//	objs, err := watchmanifests.Render(watchmanifests.Options{Namespace: ns, Image: img})
package watch
