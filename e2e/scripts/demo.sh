#!/usr/bin/env bash
# demo.sh is the embedded default (`make demo`): the local control plane and
# the Neo4j simulator, then neo4jctl validate → plan → apply → plan on the
# quickstart. Extra arguments go to e2e/cmd/demo (e.g. -f examples/secondaries.yaml -keep).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec go run ./e2e/cmd/demo -neo4jctl bin/neo4jctl "$@"
