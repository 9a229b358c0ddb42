package plan

import (
	"slices"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// serverOptions are the full options ENABLE / ALTER SERVER sends for a
// server of pool pl. ALTER SERVER "replaces all existing options, rather
// than being combined with them" (Operations Manual 5.26,
// clustering/servers.adoc § Altering server options), so lists the cluster
// file does not manage are the server's own, sent back unchanged.
func (b *builder) serverOptions(pl Pool, s state.Server) ServerOptions {
	o := pl.Options
	if !pl.ManagesDatabaseLists {
		o.AllowedDatabases, o.DeniedDatabases = s.AllowedDatabases, s.DeniedDatabases
	}
	return normOptions(o)
}

// movedByOptions returns the databases server s hosts that the options o
// no longer let it host (by name, or in the mode it hosts them in): ALTER
// SERVER makes Neo4j move them ("if the server … hosts database foo in
// primary mode when the above command is executed, then another server
// must begin hosting foo in primary mode"; with allowedDatabases "foo is
// forced to move", clustering/servers.adoc § Altering server options).
// allowedDatabases and deniedDatabases do not affect composite databases
// nor, hosted on every server, system.
func (b *builder) movedByOptions(s state.Server, o ServerOptions) []string {
	var out []string
	for _, db := range s.Hosting {
		if db == "system" {
			continue
		}
		if live := b.dbs[db]; live != nil && live.Type == "composite" {
			continue
		}
		allowed := !slices.Contains(o.DeniedDatabases, db)
		if len(o.AllowedDatabases) > 0 {
			allowed = slices.Contains(o.AllowedDatabases, db)
		}
		primary := b.dbs[db] != nil && slices.Contains(b.dbs[db].Primaries, s.ID)
		switch {
		case !allowed,
			strings.EqualFold(o.ModeConstraint, "SECONDARY") && primary,
			strings.EqualFold(o.ModeConstraint, "PRIMARY") && !primary:
			out = append(out, db)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
