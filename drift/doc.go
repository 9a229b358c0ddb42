// Package drift reports out-of-band changes to what neo4jctl renders, in
// both planes, with compliance policies and an audit log. It is read-only by
// construction: it never imports package apply, and Detect only reads (a
// forced server-side-apply dry run, or get/list with read-only credentials,
// and SHOW queries), so watch can call it in a loop and CI with credentials
// that may not write.
//
// Drift is what plan would change, seen from the live side: every field of
// a rendered object whose live value differs from what neo4jctl renders
// (naming the field manager that changed it), missing objects, Neo4j servers
// that are missing or not Enabled and Available, databases whose topology,
// access or status differ, and settings that differ from the cluster file.
// Ignore rules (spec.ignore) are honoured in both planes.
//
// Policies are compliance rules (spec.policies, or a policy file) evaluated
// against the desired state by validate and plan, and against the live
// state by drift and watch; EvaluatePolicies is the one evaluator.
//
// AuditLog writes one JSON line per drift found, violation seen or change
// applied, with digests of the values instead of the values.
package drift
