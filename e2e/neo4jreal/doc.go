// Package neo4jreal starts a real Neo4j Community 5.26 LTS server for the
// contract suite, so the Bolt simulator (e2e/neo4jsim) can be checked against
// the real thing rather than against our own reading of the manual.
//
// Enterprise Edition is not on Maven Central and there is no Docker here, so
// the server is an embedded Neo4j (org.neo4j:neo4j + org.neo4j:neo4j-bolt)
// run by a small Java launcher (launcher/, a Maven project). Start builds the
// launcher with mvn into ${XDG_CACHE_HOME:-~/.cache}/neo4jctl/neo4jreal/,
// keyed by a hash of its sources, so the repository stays clean and a second
// run needs no Maven at all. It then starts java -Xmx1g on a fresh home
// directory with Bolt on an OS-chosen 127.0.0.1 port, hands the initial
// password over standard input (never argv), and waits for the launcher's
// READY line.
//
// When java (17 or 21), mvn or Maven Central is missing, Start returns an
// *UnavailableError and StartT skips the test loudly with a line starting
// "SKIP:" that names what is missing. Set NEO4JCTL_REQUIRE_REAL_NEO4J=1 (CI
// should) to turn those skips into failures, so a broken environment can
// never pass as green.
package neo4jreal
