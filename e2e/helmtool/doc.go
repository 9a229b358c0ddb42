// Package helmtool gives tests the helm CLI (pinned release, built from the
// Go module proxy by e2e/scripts/helm.sh into the tool cache) and the
// official Neo4j chart's source from shared/fixtures beside the repository.
package helmtool
