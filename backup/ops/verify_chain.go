package ops

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
)

// ErrEnterpriseRequired is returned (wrapped) by VerifyLocal for an online
// backup when the neo4j-admin it runs has no `database restore`: Community
// Edition's. Nothing was downloaded or recorded.
var ErrEnterpriseRequired = errors.New("verifying an online backup needs an Enterprise neo4j-admin")

// VerifyChain is what verifying e downloads and restores: for an online
// backup its whole chain, the full first and e last, resolved through the
// catalogue as `neo4jctl restore ID` resolves it (catalog.Assemble, Path);
// for a dump e alone. A chain with a missing or non-contiguous link is an
// error naming it.
func (s *Session) VerifyChain(ctx context.Context, e catalog.Entry) ([]catalog.Entry, error) {
	if e.Format == inspect.FormatDump {
		return []catalog.Entry{e}, nil
	}
	if e.IsFull() {
		// A full restores on its own: no listing needed.
		return []catalog.Entry{e}, nil
	}
	es, err := s.List(ctx, e.Database)
	if err != nil {
		return nil, err
	}
	return verifyChainOf(es, e)
}

// verifyChainOf resolves e's chain among entries (VerifyChain's pure part).
func verifyChainOf(entries []catalog.Entry, e catalog.Entry) ([]catalog.Entry, error) {
	g := catalog.Assemble(entries)
	ids, err := g.Path(e.ID)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was downloaded or recorded", err)
	}
	byID := map[string]catalog.Entry{}
	for _, x := range entries {
		byID[x.ID] = x
	}
	out := make([]catalog.Entry, 0, len(ids))
	for _, id := range ids {
		m := byID[id]
		if m.Format != inspect.FormatBackup {
			// A differential continues an online backup, never a dump:
			// restore replays .backup artifacts only.
			return nil, fmt.Errorf("%s: its chain holds %s, a %s, which `neo4j-admin database restore` cannot replay; nothing was downloaded or recorded", e.ID, m.ID, m.Format)
		}
		out = append(out, m)
	}
	return out, nil
}

// LoadArgs are the arguments of the `neo4j-admin database load` that
// restores a dump of database found in dir as <database>.dump (Operations
// Manual 5.26, backup-restore/restore-dump.adoc, "Syntax"; --verbose:
// tools/neo4j-admin/index.adoc, "General options").
func LoadArgs(dir, database string) []string {
	return []string{"database", "load", "--verbose", database, "--from-path=" + dir}
}

// RestoreArgs are the arguments of the `neo4j-admin database restore` that
// replays target's chain, every artifact in dir under its own name, into
// the store of target.Database (Operations Manual 5.26,
// backup-restore/restore-backup.adoc, "Syntax" and "Options"):
//
//   - --from-path names the chain's last artifact: "a differential backup,
//     in which case the command tries first to find in the folder a backup
//     chain ending at that specific differential backup and then restores
//     that chain" (a full "is restored directly") — the form
//     backup/restore's AdminRestoreArgs gives the restore Job;
//   - <database> names the restored database, allowed "only if the
//     --from-path option points to a path to a single artifact", as here;
//   - no --to-path-data/--to-path-txn: they default to the data directory
//     of the configuration, which VerifyLocal's NEO4J_CONF puts in scratch;
//   - no --overwrite-destination: the scratch store is empty;
//   - no --temp-path (5.24+): without it "a temporary directory is created
//     inside the directory specified by the --from-path option", which is
//     the scratch directory already, on any 5.x;
//   - no --restore-until: verification replays the whole chain.
func RestoreArgs(dir string, target catalog.Entry) []string {
	return []string{"database", "restore", "--verbose", "--from-path=" + filepath.Join(dir, target.File), target.Database}
}

// CheckArgs are the arguments of the consistency check of database in the
// configured data directory, a report of inconsistencies written under
// reports (tools/neo4j-admin/consistency-checker.adoc, "Syntax", "Output").
func CheckArgs(database, reports string) []string {
	return []string{"database", "check", database, "--report-path=" + reports}
}

// requireRestore asks neo4j-admin which `database` subcommands it has
// (`neo4j-admin database --help` lists them under "Commands:") and refuses
// with ErrEnterpriseRequired when `restore` is not among them: it is
// Enterprise Edition only (tools/neo4j-admin/index.adoc, "Available
// commands per category": restore, label Enterprise Edition). Community
// 5.26.x lists check, dump, import, info, load and migrate, and answers
// `database restore …` with "Unmatched arguments from index 1: 'restore'"
// and exit 2 (seen with 5.26.30), which is why it is asked before the
// chain is downloaded rather than after.
func requireRestore(ctx context.Context, admin AdminRunner, e catalog.Entry, chain []catalog.Entry) error {
	r, err := admin(ctx, nil, "database", "--help")
	if err != nil {
		return err
	}
	cmds := adminSubcommands(r.Stdout + "\n" + r.Stderr)
	if r.ExitCode != 0 || len(cmds) == 0 {
		return fmt.Errorf("neo4j-admin did not run (`neo4j-admin database --help` exited %d without listing its commands), so %s was not verified (nothing was downloaded or recorded): %s",
			r.ExitCode, e.ID, lastLines(strings.TrimSpace(r.Stderr+"\n"+r.Stdout), 3))
	}
	if cmds["restore"] {
		return nil
	}
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		if n != "help" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return fmt.Errorf("%w: %s is an online backup (%s, a chain of %d artifacts), restored by `neo4j-admin database restore`, an Enterprise Edition command; this neo4j-admin has none (its `database --help` lists %s: Community Edition), so nothing was downloaded or recorded. Verify it with an Enterprise neo4j-admin: --neo4j-home at a Neo4j Enterprise 5.26 installation, or in the cluster (without --local), where the Job runs the cluster's own Enterprise image",
		ErrEnterpriseRequired, e.ID, e.File, len(chain), strings.Join(names, ", "))
}

// adminSubcommands parses the "Commands:" list of a picocli help text:
// each command on a line of its own, indented, its names (with aliases,
// comma-separated) before the description, indented by two spaces.
func adminSubcommands(help string) map[string]bool {
	out := map[string]bool{}
	in := false
	for _, l := range strings.Split(help, "\n") {
		if strings.TrimSpace(l) == "Commands:" {
			in = true
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(l, " ") || strings.TrimSpace(l) == "" {
			if len(out) > 0 {
				break
			}
			continue
		}
		// "  help, -h, --help  Display help…": commands are indented by
		// two spaces, a wrapped description by more; names end at the
		// first double space.
		if len(l) < 3 || l[2] == ' ' {
			continue
		}
		names, _, _ := strings.Cut(strings.TrimSpace(l), "  ")
		for _, n := range strings.Split(names, ",") {
			if n = strings.TrimSpace(n); n != "" && !strings.HasPrefix(n, "-") {
				out[n] = true
			}
		}
	}
	return out
}
