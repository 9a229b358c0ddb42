// Command neo4jctl-backup-agent is `neo4jctl backup agent` alone: the same
// code (backup/agent's Options and Execute) in a binary that links only the
// agent's packages — no command tree of the whole CLI, no Kubernetes client
// — so the backup Job's container stays small (docs/backups.md: its peak
// RSS). It accepts the arguments of `neo4jctl backup agent`, with or
// without the leading "backup agent", so a Pod's arguments work with
// either binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/neo4jctl/neo4jctl/backup/agent"
)

// Set by the release build (-ldflags -X main.version=…), like neo4jctl's.
var (
	version = "dev"
	commit  = "none"
)

func main() {
	// Every package is initialised by now: what init touched of the
	// binary is not needed again (pages_linux.go).
	releaseInitPages()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; exit 0 every artifact stored and copied, 1
// otherwise (as `neo4jctl backup agent`).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) >= 2 && args[0] == "backup" && args[1] == "agent" {
		args = args[2:]
	}
	o := agent.Options{Log: stderr}
	fs := pflag.NewFlagSet("neo4jctl-backup-agent", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	o.AddFileFlags(fs)
	o.AddFlags(fs)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: neo4jctl-backup-agent -f CLUSTER_FILE --from-dir DIR [--inspect-file FILE]\n\n%s\n\nFlags:\n%s", agent.Long, fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "Error: %v\nSee 'neo4jctl-backup-agent --help'.\n", err)
		return 1
	}
	if *showVersion {
		fmt.Fprintf(stdout, "neo4jctl-backup-agent %s (commit %s)\n", version, commit)
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "Error: unexpected arguments %q\nSee 'neo4jctl-backup-agent --help'.\n", fs.Args())
		return 1
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintf(stderr, "Error: %v\nSee 'neo4jctl-backup-agent --help'.\n", err)
		return 1
	}
	if _, err := agent.Execute(ctx, o); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	return 0
}
