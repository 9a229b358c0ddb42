// Package manifests renders the Kubernetes objects of a Neo4j cluster from
// its cluster file: a ServiceAccount and the Role that Kubernetes discovery
// reads with, the neo4j.conf ConfigMap, a headless and a client Service, a
// PodDisruptionBudget, an optional NetworkPolicy, ServiceMonitor and
// cert-manager Certificate, and one StatefulSet per server pool.
//
// Rendering is pure: no clients, no I/O, and the same cluster file always
// gives the same objects in the same order, so plan can diff them and golden
// tests can pin them. Objects are built from the typed k8s.io/api structs and
// handed out as unstructured objects, the form server-side apply takes.
//
// The package also exports the names, labels and addresses that later code
// (the Kubernetes and Neo4j planes of plan and apply) must agree on:
// StatefulSetName, HeadlessServiceName, PodDNSName, Labels, SelectorLabels,
// Pools and the port constants.
package manifests
