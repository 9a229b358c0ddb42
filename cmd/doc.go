// Package cmd holds neo4jctl's cobra commands: one file per command, each with
// an Options struct filled by Complete, checked by Validate and executed by
// Run. Flags, viper binding (flags ← NEO4JCTL_* environment ← config file) and
// the mapping of errors to exit codes live here and nowhere else; the work
// itself is done by the domain packages the commands call.
package cmd
