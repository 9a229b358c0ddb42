// Package examples holds cluster files people copy: quickstart.yaml,
// production.yaml, community.yaml and secondaries.yaml. Its test loads,
// validates and renders each one against a golden file in testdata/
// (go test ./examples -update refreshes them).
package examples
