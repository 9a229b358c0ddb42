// Package kube is neo4jctl's only user of client-go and cli-runtime. It
// observes the Kubernetes plane for plan (a forced server-side-apply dry run
// of every rendered object — but one provably unchanged since neo4jctl
// applied it, under credentials proven able to dry-run it, see
// provablyUnchanged and mayDryRun —, normalised so live and predicted
// objects compare directly, with the field managers that explain a
// difference), applies and
// deletes objects with server-side apply, keeps an inventory of what neo4jctl
// applied (kubectl's ApplySet convention, KEP-3659) so pruning never relies
// on a label query alone, waits for rollouts, holds a per-cluster Lease lock,
// reads Secret keys and port-forwards to Pods. For watch it also runs the
// informers on labelled objects, the leader-election Lease and the Events
// watch records.
//
// Every request that is safe to repeat is retried on transient errors with a
// capped, jittered exponential backoff; field-manager conflicts are returned
// as *ConflictError and never retried.
package kube
