// Package clusterfile defines the cluster file (apiVersion
// neo4jctl.io/v1alpha1, kind Neo4jCluster) as versioned Go types and loads
// it: Load parses YAML or JSON keeping line numbers, Default fills what the
// owner left out, Validate reports every problem at once as
// "file:line: field.path: what is wrong (what to do)".
//
// The decoder walks the yaml.v3 node tree against the types by reflection
// (their json tags name the fields), rather than unmarshalling, so that
// unknown fields, wrong types and duplicate keys are reported with their
// line alongside the validation problems, and so that Cluster.LineOf can
// point later diagnostics (plan refusals, GitHub annotations) at the line
// that caused them. Schema exports the same types as a JSON Schema for
// editors.
package clusterfile
