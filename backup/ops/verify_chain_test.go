package ops

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
)

func chainEntry(id string, typ catalog.Type, parent string, at int, lo, hi int64) catalog.Entry {
	e := catalog.Entry{
		ID: id, Cluster: "graph", Database: "london", DatabaseID: "d4", Type: typ, Parent: parent,
		Format: inspect.FormatBackup, File: "london-" + id + ".backup",
		Created: time.Date(2026, 12, 7, at, 0, 0, 0, time.UTC), LowestTx: lo, HighestTx: hi,
	}
	if typ == catalog.Full {
		e.ChainID = id
	}
	return e
}

// TestVerifyChainResolution: verifying a differential downloads and
// restores its whole chain, full first; a chain with a hole or without
// its full is refused with the reason, as restore refuses it.
func TestVerifyChainResolution(t *testing.T) {
	full := chainEntry("f1", catalog.Full, "", 1, 1, 5)
	d1 := chainEntry("d1", catalog.Diff, "f1", 2, 6, 9)
	empty := chainEntry("d2", catalog.Diff, "d1", 3, 0, 0)
	d3 := chainEntry("d3", catalog.Diff, "d2", 4, 10, 12)
	gap := chainEntry("g1", catalog.Diff, "d3", 5, 20, 21)
	orphan := chainEntry("o1", catalog.Diff, "gone", 6, 30, 31)
	full2 := chainEntry("f2", catalog.Full, "", 7, 1, 40)
	dump := catalog.Entry{ID: "dump", Cluster: "graph", Database: "london", Type: catalog.Full, ChainID: "dump", Format: inspect.FormatDump, File: "london.dump", Created: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}
	onDump := chainEntry("x1", catalog.Diff, "dump", 9, 1, 2)
	all := []catalog.Entry{d3, full2, orphan, gap, empty, d1, full, dump, onDump}

	for _, tc := range []struct {
		name    string
		target  catalog.Entry
		want    []string
		wantErr string
	}{
		{name: "a full alone", target: full, want: []string{"f1"}},
		{name: "the newest link of a chain with an empty differential", target: d3, want: []string{"f1", "d1", "d2", "d3"}},
		{name: "a link in the middle", target: d1, want: []string{"f1", "d1"}},
		{name: "a new full starts a new chain", target: full2, want: []string{"f2"}},
		{name: "a gap in the transactions", target: gap, wantErr: "gap: transactions 13..19"},
		{name: "the parent is missing", target: orphan, wantErr: "its parent gone is not in the catalogue"},
		{name: "a differential on a dump", target: onDump, wantErr: "a dump, which `neo4j-admin database restore` cannot replay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := verifyChainOf(all, tc.target)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyAdminArgs: the neo4j-admin command lines verify runs, as the
// Operations Manual 5.26 gives them (restore-dump.adoc, restore-backup.adoc,
// consistency-checker.adoc): restore names the chain's last artifact in
// the directory holding the whole chain, and the database.
func TestVerifyAdminArgs(t *testing.T) {
	target := chainEntry("d3", catalog.Diff, "d2", 4, 10, 12)
	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"restore", RestoreArgs("/s/artifacts", target), []string{"database", "restore", "--verbose", "--from-path=/s/artifacts/london-d3.backup", "london"}},
		{"load", LoadArgs("/s/artifacts", "neo4j"), []string{"database", "load", "--verbose", "neo4j", "--from-path=/s/artifacts"}},
		{"check", CheckArgs("london", "/s/reports"), []string{"database", "check", "london", "--report-path=/s/reports"}},
	} {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("%s args (-want +got):\n%s", tc.name, diff)
		}
	}
}

// communityDatabaseHelp is `neo4j-admin database --help` of Neo4j
// Community 5.26.30, as it printed it.
const communityDatabaseHelp = `Usage: neo4j-admin database [COMMAND]
Database-specific administration tasks.
Commands:
  help, -h, --help  Display help information about the specified command.
  check             Check the consistency of a database.
  dump              Dump a database into a single-file archive.
  import            High-speed import of data from CSV files, optimized for fault-free data.
  info              Print information about a Neo4j database store.
  load              Load a database from an archive created with the dump command or from full Neo4j Enterprise backup.
  migrate           Migrate a database
`

// enterpriseDatabaseHelp is the same list with the Enterprise commands of
// tools/neo4j-admin/index.adoc, "Available commands per category" (no real
// Enterprise neo4j-admin is available to these tests), a wrapped
// description included.
const enterpriseDatabaseHelp = `Usage: neo4j-admin database [COMMAND]
Database-specific administration tasks.
Commands:
  help, -h, --help  Display help information about the specified command.
  aggregate-backup  Aggregates a chain of backup artifacts into a single artifact.
  backup            Perform an online backup from a running Neo4j enterprise server.
  check             Check the consistency of a database.
  copy              Copy a database and optionally apply filters.
  dump              Dump a database into a single-file archive.
  import            High-speed import of data from CSV files, optimized for
                      fault-free data.
  info              Print information about a Neo4j database store.
  load              Load a database from an archive created with the dump command or from full Neo4j Enterprise backup.
  migrate           Migrate a database
  restore           Restore a backed up database.
  upload            Push a local database to a Neo4j Aura instance.
`

// TestRequireRestore: an online backup is verified only by a neo4j-admin
// whose own `database --help` lists restore; Community's is refused with
// ErrEnterpriseRequired naming what to use, and a neo4j-admin that does
// not run is a different error.
func TestRequireRestore(t *testing.T) {
	e := chainEntry("d1", catalog.Diff, "f1", 2, 6, 9)
	chain := []catalog.Entry{chainEntry("f1", catalog.Full, "", 1, 1, 5), e}
	runner := func(r AdminRun) (AdminRunner, *[][]string) {
		var calls [][]string
		return func(_ context.Context, env []string, args ...string) (AdminRun, error) {
			calls = append(calls, args)
			return r, nil
		}, &calls
	}

	admin, calls := runner(AdminRun{Stdout: enterpriseDatabaseHelp})
	if err := requireRestore(context.Background(), admin, e, chain); err != nil {
		t.Errorf("Enterprise: %v, want nil", err)
	}
	if diff := cmp.Diff([][]string{{"database", "--help"}}, *calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}

	admin, _ = runner(AdminRun{Stdout: communityDatabaseHelp})
	err := requireRestore(context.Background(), admin, e, chain)
	if !errors.Is(err, ErrEnterpriseRequired) {
		t.Fatalf("Community: %v, want ErrEnterpriseRequired", err)
	}
	for _, want := range []string{"check, dump, import, info, load, migrate", "Enterprise neo4j-admin", "--neo4j-home", "without --local", "a chain of 2 artifacts", "nothing was downloaded or recorded"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Community refusal %q does not say %q", err, want)
		}
	}

	admin, _ = runner(AdminRun{ExitCode: 1, Stderr: "Error: could not find java"})
	if err := requireRestore(context.Background(), admin, e, chain); err == nil || errors.Is(err, ErrEnterpriseRequired) || !strings.Contains(err.Error(), "could not find java") {
		t.Errorf("a neo4j-admin that does not run: %v, want a did-not-run error with its output", err)
	}
}

func TestAdminSubcommands(t *testing.T) {
	got := adminSubcommands(enterpriseDatabaseHelp)
	for _, want := range []string{"restore", "aggregate-backup", "check", "load", "help"} {
		if !got[want] {
			t.Errorf("%s not parsed from the Enterprise list: %v", want, got)
		}
	}
	if got["fault-free"] || got["-h"] || len(got) != 12 {
		t.Errorf("parsed %d names %v, want the 12 commands only", len(got), got)
	}
	if c := adminSubcommands(communityDatabaseHelp); c["restore"] || !c["load"] || len(c) != 7 {
		t.Errorf("Community list parsed as %v", c)
	}
}
