// Package clusterfile defines the cluster file (apiVersion
// neo4jctl.io/v1alpha1, kind Neo4jCluster) as versioned Go types and loads
// it: Load parses YAML or JSON keeping line numbers, Default fills what the
// owner left out, Validate reports every problem at once as
// "file:line: field.path: what is wrong (what to do)".
package clusterfile
