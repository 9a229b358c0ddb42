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
//
// # neo4j-admin (Community dumps, loads, checks)
//
// The same classpath holds the real neo4j-admin (main class
// org.neo4j.cli.AdminTool, from org.neo4j:neo4j-command-line; dump, load
// and info from neo4j-dbms, check from neo4j-consistency-check), run with
// NEO4J_HOME set and the JDK Start uses. For tests of other packages
// (backup verify, restore, DR):
//
//	s := neo4jreal.StartT(t, neo4jreal.Options{})     // write data through s.BoltURI
//	s.Shutdown()                                     // stop the JVM, keep the store
//	adm, _ := s.Admin(ctx)                           // NEO4J_HOME = s.Home()
//	dump, _ := adm.Dump(ctx, "neo4j", dir)           // dir/neo4j.dump
//
//	scratch := t.TempDir()
//	a, _ := neo4jreal.NewAdmin(ctx, filepath.Join(scratch, "neo4j"), neo4jreal.Options{})
//	a.Load(ctx, "neo4j", dir, false)                 // loads dir/neo4j.dump
//	res, _ := a.Check(ctx, "neo4j", reportDir)       // res.Consistent, res.ReportPath
//	info, raw, _ := a.Info(ctx, "neo4j")             // database info --format=json, parsed
//	s2 := neo4jreal.StartT(t, neo4jreal.Options{Dir: scratch}) // a server on the loaded store
//
//	neo4jreal.CorruptPropertyStore(a.Home, "neo4j")  // deterministic damage check must report
//	a.Run(ctx, "database", "info", "neo4j")          // any other neo4j-admin command
//
// Admin.Run returns an *AdminError (with the full AdminResult) on a non-zero
// exit. Check distinguishes an inconsistent store (CheckResult.Consistent
// false, nil error, the report's text) from a run that failed outright (an
// error). ParseStoreInfo parses info's JSON without a JVM; the real output
// of 5.26.30 is recorded in testdata/admin-info-5.26.30.json. Every flag
// used is cited from the Operations Manual 5.26 next to the helper that
// passes it. One dump/load/check/info run costs a JVM start each (about 5 s
// on an idle machine; check about 20 s).
package neo4jreal
