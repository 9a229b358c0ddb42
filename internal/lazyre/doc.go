// Package lazyre holds regular expressions compiled on their first use
// instead of at package initialisation.
//
// Every neo4jctl command links every package of the module and runs every
// package's init before it does anything, so a package-level
// regexp.MustCompile costs each start its compilation (hundreds of
// allocations per expression) even in a command that never uses it:
// `version`, a plan that needs no redaction pattern, the backup commands.
// It started in internal/clusterfile (lazyregexp.go) and moved here when
// plan, helmimport, manifests and backup needed the same thing: one type,
// one registry of expressions a test compiles (a typo still fails a test,
// not a user's command).
package lazyre
