// Package contract holds the contract suite: the same queries and admin
// statements sent to a real Neo4j Community 5.26 server (e2e/neo4jreal) and
// to the project's Bolt simulator in Community mode (e2e/neo4jsim), through
// the project's adapter (internal/neo4j), so the simulator cannot drift from
// real column names, value types and error classifications, and the
// adapter's quoting is proven against a real Cypher parser.
//
// testdata/community-5.26.json records what the real server said (columns,
// types, error codes, messages, GQL statuses). The simulator is written to
// match it; TestCommunityFacts re-checks it against the real server on every
// run and rewrites it with -update.
//
// The suite needs java 17/21 and mvn (plus Maven Central on a cold cache).
// Without them it skips loudly ("SKIP: ..."), or fails when
// NEO4JCTL_REQUIRE_REAL_NEO4J=1.
package contract
