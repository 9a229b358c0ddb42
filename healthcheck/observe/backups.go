package observe

import (
	"context"
	"slices"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/healthcheck"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// backupReadTimeout bounds the catalogue's LIST: a bucket that does not
// answer makes the backups check UNKNOWN instead of holding the whole
// healthcheck.
const backupReadTimeout = time.Minute

// Backups reads, for the backups check, spec.backups.schedule and the
// catalogue's newest backup per database. The catalogue is opened as
// `neo4jctl backup list` opens it (backup/ops: the storage's credentials
// from the Secret mounted under secretsDir, default ops.DefaultSecretsDir,
// else the environment), so both fail alike. nil when the cluster file
// schedules no backups: the check is then absent.
func Backups(ctx context.Context, c *clusterfile.Cluster, secretsDir string) *healthcheck.BackupInput {
	b := c.Spec.Backups
	if b == nil || b.Schedule == nil || (b.Schedule.Full == "" && b.Schedule.Differential == "") {
		return nil
	}
	in := &healthcheck.BackupInput{Full: b.Schedule.Full, Differential: b.Schedule.Differential, TimeZone: b.Schedule.TimeZone}
	entries, err := readCatalogue(ctx, c, secretsDir)
	if err != nil {
		in.Err = err.Error()
		return in
	}
	in.Databases = newestBackups(entries, scheduledDatabases(c))
	addCopyLag(in.Databases, entries, len(b.Copies))
	return in
}

// scheduledDatabases are the databases the schedule must have a backup
// of even when the catalogue holds none: those it names, or with "*"
// (every database) those the cluster file declares.
func scheduledDatabases(c *clusterfile.Cluster) []string {
	names := c.Spec.Backups.Schedule.Databases
	if slices.Contains(names, clusterfile.DefaultBackupDatabases) {
		names = nil
		for _, db := range c.Spec.Databases {
			names = append(names, db.Name)
		}
	}
	return names
}

// newestBackups is each database's newest catalogued backup and the
// length of the chain it belongs to, with a zero LastSuccess for a
// scheduled database the catalogue lacks.
func newestBackups(entries []catalog.Entry, scheduled []string) []healthcheck.BackupDatabase {
	byName := map[string]*healthcheck.BackupDatabase{}
	var order []string
	get := func(name string) *healthcheck.BackupDatabase {
		d := byName[name]
		if d == nil {
			d = &healthcheck.BackupDatabase{Name: name}
			byName[name] = d
			order = append(order, name)
		}
		return d
	}
	for _, name := range scheduled {
		get(name)
	}
	for _, e := range entries {
		if d := get(e.Database); e.Created.After(d.LastSuccess) {
			d.LastSuccess = e.Created
			d.Bytes = e.CiphertextSize
			d.Duration = 0
			if !e.Catalogued.IsZero() && e.Catalogued.After(e.Created) {
				d.Duration = e.Catalogued.Sub(e.Created)
			}
		}
	}
	// The chain of the newest entry: the restore of the newest backup
	// replays it all.
	g := catalog.Assemble(entries)
	for _, ch := range g.Chains() {
		d := byName[ch.Database]
		for _, m := range ch.Members {
			if m.Created.Equal(d.LastSuccess) {
				d.ChainLength = len(ch.Members)
			}
		}
	}
	out := make([]healthcheck.BackupDatabase, 0, len(order))
	for _, name := range order {
		out = append(out, *byName[name])
	}
	return out
}

// NewestBackups is each database's newest catalogued backup, for an
// upgrade's pre-flight (spec.upgrade.maxBackupAge): the databases the
// schedule covers, or without a schedule those the cluster file declares,
// listed with a zero LastSuccess when the catalogue has none. The
// catalogue is opened as `neo4jctl backup list` opens it.
func NewestBackups(ctx context.Context, c *clusterfile.Cluster, secretsDir string) ([]healthcheck.BackupDatabase, error) {
	ctx, cancel := context.WithTimeout(ctx, backupReadTimeout)
	defer cancel()
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: secretsDir})
	if err != nil {
		return nil, err
	}
	entries, err := s.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var dbs []string
	if c.Spec.Backups.Schedule != nil {
		dbs = scheduledDatabases(c)
	} else {
		for _, db := range c.Spec.Databases {
			dbs = append(dbs, db.Name)
		}
	}
	return newestBackups(entries, dbs), nil
}

// addCopyLag sets each database's UncopiedSince: the oldest entry with
// fewer recorded copies than spec.backups.copies has locations (the agent
// records a copy only once it read it back and its digest matched).
func addCopyLag(dbs []healthcheck.BackupDatabase, entries []catalog.Entry, copies int) {
	if copies == 0 {
		return
	}
	oldest := map[string]time.Time{}
	for _, e := range entries {
		urls := map[string]bool{}
		for _, c := range e.Copies {
			urls[c.URL] = true
		}
		if len(urls) >= copies {
			continue
		}
		if t, ok := oldest[e.Database]; !ok || e.Created.Before(t) {
			oldest[e.Database] = e.Created
		}
	}
	for i := range dbs {
		dbs[i].UncopiedSince = oldest[dbs[i].Name]
	}
}

// readCatalogue lists the cluster's catalogue as `neo4jctl backup list`
// does, bounded by backupReadTimeout; the backups and the verification
// checks both read it through here, so they fail alike. ops redacts the
// credentials it read from its errors.
func readCatalogue(ctx context.Context, c *clusterfile.Cluster, secretsDir string) ([]catalog.Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, backupReadTimeout)
	defer cancel()
	s, err := ops.Open(ctx, ops.Options{Cluster: c, SecretsDir: secretsDir})
	if err != nil {
		return nil, err
	}
	return s.List(ctx, "")
}
