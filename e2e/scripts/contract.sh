#!/usr/bin/env bash
# contract.sh runs the contract suite: a real Neo4j Community 5.26 (built from
# Maven Central by e2e/neo4jreal) against the Bolt simulator, through
# internal/neo4j. Missing java/mvn/Maven Central fail the run instead of
# skipping it, because CI must prove the suite really ran.
# Pass -update (after --) to re-record e2e/contract/testdata/community-5.26.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NEO4JCTL_REQUIRE_REAL_NEO4J="${NEO4JCTL_REQUIRE_REAL_NEO4J:-1}"
exec go test -count=1 -timeout 45m ./e2e/neo4jreal/ ./e2e/contract/ "$@"
