// Package agent is `neo4jctl backup agent`: the process that runs beside
// neo4j-admin (in a Job, or as a plain process) and takes what it wrote in
// a directory into the bucket — inspect each artifact (the type neo4j-admin
// produced, never the one asked for), encrypt while uploading, verify, write
// the catalogue entry last, copy to every copy bucket, then apply retention
// with every deletion printed before it happens. One plain line per step.
package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/backup/ops"
)

// Config is what one agent run takes.
type Config struct {
	// FromDir is the directory neo4j-admin wrote its artifacts to
	// (--to-path of database backup, of database dump).
	FromDir string
	// InspectFile holds the output of `neo4j-admin backup inspect
	// --show-metadata --empty --format=TABULAR FROM_DIR` (inspect.Args);
	// required when FromDir holds .backup artifacts. A dump's type is FULL
	// and needs none.
	InspectFile string
	// RequestedType is the --type neo4j-admin was asked for (FULL, DIFF,
	// AUTO), recorded only to show a fallback to FULL.
	RequestedType string
	// Prune applies spec.backups.retention after a run in which every
	// artifact was stored.
	Prune bool
}

// Result is what a run did.
type Result struct {
	Stored  []catalog.Entry `json:"stored"`
	Skipped []string        `json:"skipped"`
	Pruned  int             `json:"pruned"`
}

// found is one artifact file of the directory.
type found struct {
	path  string
	entry catalog.Entry
}

// Run stores every artifact of cfg.FromDir not yet catalogued. It returns
// an error when any artifact or copy failed; artifacts stored before the
// failure stay stored and catalogued.
func Run(ctx context.Context, s *ops.Session, cfg Config) (Result, error) {
	res := Result{Stored: []catalog.Entry{}, Skipped: []string{}}
	s.Log.Printf("agent: cluster %s, storage %s, %d copies, from %s", s.Cluster, s.Storage.URL(), len(s.Copies), cfg.FromDir)
	arts, err := scan(s.Cluster, cfg)
	if err != nil {
		return res, err
	}
	existing, err := s.List(ctx, "")
	if err != nil {
		return res, err
	}
	byDB := map[string][]catalog.Entry{}
	for _, e := range existing {
		byDB[e.Database] = append(byDB[e.Database], e)
	}

	var errs []error
	storeFailed := false
	for _, a := range arts {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			storeFailed = true
			break
		}
		e := a.entry
		if id := catalogued(byDB[e.Database], e); id != "" {
			s.Log.Printf("skip %s: already catalogued as %s", e.File, id)
			res.Skipped = append(res.Skipped, e.File)
			continue
		}
		e.RequestedType = strings.ToUpper(cfg.RequestedType)
		r, err := s.Store(ctx, ops.Artifact{Path: a.path, Entry: e}, byDB[e.Database])
		if err != nil {
			s.Log.Printf("FAILED %s: %v", e.File, err)
			errs = append(errs, err)
			storeFailed = true
			continue
		}
		if r.Entry.FellBack() {
			s.Log.Printf("note: %s is a FULL backup although DIFF was asked for (neo4j-admin found no earlier artifact of the chain in its --to-path)", r.Entry.ID)
		}
		byDB[e.Database] = append(byDB[e.Database], r.Entry)
		res.Stored = append(res.Stored, r.Entry)
		for _, cerr := range r.CopyErrors {
			s.Log.Printf("FAILED copy: %v", cerr)
			errs = append(errs, cerr)
		}
	}

	switch {
	case !cfg.Prune:
	case s.Spec.Retention == nil:
		s.Log.Printf("retention: none set, every backup is kept")
	case storeFailed:
		s.Log.Printf("retention: skipped, an artifact of this run was not stored")
	default:
		n, err := prune(ctx, s)
		res.Pruned = n
		if err != nil {
			errs = append(errs, err)
		}
	}
	s.Log.Printf("done: %d stored, %d skipped, %d pruned, %d failed", len(res.Stored), len(res.Skipped), res.Pruned, len(errs))
	return res, errors.Join(errs...)
}

// prune plans retention, prints every deletion, then carries them out.
func prune(ctx context.Context, s *ops.Session) (int, error) {
	plan, err := s.PlanPrune(ctx)
	if err != nil {
		return 0, err
	}
	s.Log.Printf("retention: %d to delete", plan.Deletions())
	for _, dd := range plan.Databases {
		for _, it := range dd.Decision.Delete {
			s.Log.Printf("retention: will delete %s (%s)", it.ID, ops.Reasons(it.Reasons))
		}
	}
	if plan.Deletions() == 0 {
		return 0, nil
	}
	return s.ApplyPrune(ctx, plan)
}

// catalogued returns the id of an entry already recording this file (a
// chain's earlier artifacts stay in the directory between runs), or "".
func catalogued(entries []catalog.Entry, e catalog.Entry) string {
	for _, x := range entries {
		if x.File == e.File && x.Created.Equal(e.Created) && x.Format == e.Format {
			return x.ID
		}
	}
	return ""
}

// scan lists the artifacts in the directory with their entries so far,
// chronologically (a chain's parent before its differentials).
func scan(cluster string, cfg Config) ([]found, error) {
	dirents, err := os.ReadDir(cfg.FromDir)
	if err != nil {
		return nil, fmt.Errorf("--from-dir: %w", err)
	}
	var backups, dumps []string
	for _, d := range dirents {
		if d.IsDir() {
			continue
		}
		switch filepath.Ext(d.Name()) {
		case ".backup":
			backups = append(backups, d.Name())
		case ".dump":
			dumps = append(dumps, d.Name())
		}
	}
	if len(backups)+len(dumps) == 0 {
		return nil, fmt.Errorf("--from-dir %s holds no neo4j-admin artifact (<database>-<time>.backup or <database>.dump)", cfg.FromDir)
	}
	var out []found
	var errs []error
	if len(backups) > 0 {
		rows, err := readInspect(cfg)
		if err != nil {
			return nil, err
		}
		for _, name := range backups {
			a, ok := rows[name]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: not in the inspect output %s: its type and transaction range are unknown, and neo4jctl never guesses them", name, cfg.InspectFile))
				continue
			}
			e, err := catalog.FromArtifact(cluster, a, catalog.NewToken())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, found{path: filepath.Join(cfg.FromDir, name), entry: e})
		}
	}
	for _, name := range dumps {
		p := filepath.Join(cfg.FromDir, name)
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// A dump's name carries no time: it was taken when it was last
		// written.
		e, err := catalog.FromDump(cluster, name, fi.ModTime(), catalog.NewToken())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, found{path: p, entry: e})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].entry, out[j].entry
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		if a.Type != b.Type {
			return a.Type == catalog.Full
		}
		return a.File < b.File
	})
	return out, nil
}

// readInspect parses the inspect output, keyed by artifact file name.
func readInspect(cfg Config) (map[string]inspect.Artifact, error) {
	fix := fmt.Sprintf("run `neo4j-admin %s > FILE` after the backup and pass --inspect-file FILE", strings.Join(inspect.Args(cfg.FromDir), " "))
	if cfg.InspectFile == "" {
		return nil, fmt.Errorf("--from-dir holds .backup artifacts but no --inspect-file was given (%s)", fix)
	}
	f, err := os.Open(cfg.InspectFile)
	if err != nil {
		return nil, fmt.Errorf("--inspect-file: %w (%s)", err, fix)
	}
	defer f.Close()
	arts, err := inspect.ParseTabular(cfg.InspectFile, f)
	if err != nil {
		return nil, err
	}
	rows := map[string]inspect.Artifact{}
	for _, a := range arts {
		rows[path.Base(a.File)] = a
	}
	return rows, nil
}
