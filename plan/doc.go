// Package plan turns the desired state of a cluster (the cluster file) and the
// observed state of both planes (Kubernetes objects and the Neo4j cluster) into
// a Plan: an ordered list of steps with explicit dependencies that apply
// executes as is, plus the refusals, warnings and freshness record that go with
// it.
//
// The package is pure: it talks to no server, reads no file and imports no
// client, CLI or terminal library, so every plan can be reproduced in a unit
// test from values built by hand. What only Neo4j can answer — the
// read-only DRYRUN of a DEALLOCATE or REALLOCATE the plan intends — the plan
// asks for in Plan.DryRunsWanted; the caller asks Neo4j and computes the plan
// again with the answers in state.Neo4j.DryRuns. Secret values are redacted here, before any
// view or encoder sees the model, so no output path can leak them.
//
// Field comments on the model say which fields drive apply and which exist
// only for display (the split Terraform's plans/changes.go makes): apply must
// never branch on a display string.
package plan
