package ops

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/neo4jctl/neo4jctl/backup/blob"
	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/retention"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// DatabaseDecision is the retention decision for one database.
type DatabaseDecision struct {
	Database string             `json:"database"`
	Decision retention.Decision `json:"decision"`
}

// PrunePlan is what prune would delete, per database. It is plain data:
// `backup prune` shows it, and `--apply` deletes exactly its Delete lists.
type PrunePlan struct {
	Cluster   string             `json:"cluster"`
	Databases []DatabaseDecision `json:"databases"`
}

// Deletions counts the backups the plan deletes.
func (p PrunePlan) Deletions() int {
	n := 0
	for _, d := range p.Databases {
		n += len(d.Decision.Delete)
	}
	return n
}

// PolicyFor converts spec.backups.retention for one database: unset counts
// keep nothing by that period.
func PolicyFor(r *clusterfile.BackupRetention, database string) retention.Policy {
	p := r.For(database)
	n := func(c *int32) int {
		if c == nil {
			return 0
		}
		return int(*c)
	}
	return retention.Policy{Daily: n(p.Daily), Weekly: n(p.Weekly), Monthly: n(p.Monthly), Yearly: n(p.Yearly), MinAge: p.MinAge, MaxAge: p.MaxAge}
}

// PlanPrune reads the catalogue and applies spec.backups.retention to
// each database (its per-database override, else the cluster's policy).
// Without retention nothing is deleted.
func (s *Session) PlanPrune(ctx context.Context) (PrunePlan, error) {
	plan := PrunePlan{Cluster: s.Cluster, Databases: []DatabaseDecision{}}
	if s.Spec.Retention == nil {
		return plan, nil
	}
	entries, err := s.List(ctx, "")
	if err != nil {
		return plan, err
	}
	byDB := map[string][]catalog.Entry{}
	for _, e := range entries {
		byDB[e.Database] = append(byDB[e.Database], e)
	}
	dbs := make([]string, 0, len(byDB))
	for db := range byDB {
		dbs = append(dbs, db)
	}
	sort.Strings(dbs)
	now := s.now()
	for _, db := range dbs {
		d := retention.Plan(byDB[db], PolicyFor(s.Spec.Retention, db), now)
		plan.Databases = append(plan.Databases, DatabaseDecision{Database: db, Decision: d})
	}
	return plan, nil
}

// ApplyPrune deletes exactly the plan's Delete items, in their order
// (differentials before the full they depend on), each as: its catalogue
// entry first — so an interrupted prune never leaves an entry whose data
// is gone — then its artifact, then its copies. Each deletion is printed
// before it happens. entries are looked up again only for their object
// names; an entry already gone is skipped.
func (s *Session) ApplyPrune(ctx context.Context, plan PrunePlan) (deleted int, err error) {
	if plan.Cluster != s.Cluster {
		return 0, fmt.Errorf("the prune plan is for cluster %s, the cluster file is %s's", plan.Cluster, s.Cluster)
	}
	var errs []error
	for _, dd := range plan.Databases {
		for _, it := range dd.Decision.Delete {
			e, err := s.Catalog.Get(ctx, it.ID)
			if errors.Is(err, catalog.ErrNotFound) {
				s.Log.Printf("skip %s: already deleted", it.ID)
				continue
			}
			if err != nil {
				errs = append(errs, s.Log.Errorf("read %s: %w", it.ID, err))
				continue
			}
			s.Log.Printf("delete %s (%s, %s): %s", e.ID, e.Type, e.Created.UTC().Format("2006-01-02T15:04:05Z"), Reasons(it.Reasons))
			if err := s.Catalog.Delete(ctx, e.ID); err != nil {
				errs = append(errs, s.Log.Errorf("delete the entry %s: %w", e.ID, err))
				continue
			}
			if err := s.Storage.Delete(ctx, e.Object); err != nil && !errors.Is(err, blob.ErrNotFound) {
				errs = append(errs, s.Log.Errorf("delete %s (its entry is gone; remove the object by hand): %w", e.Object, err))
			}
			for _, cp := range e.Copies {
				if err := s.deleteCopy(ctx, e.ID, cp); err != nil {
					errs = append(errs, err)
				}
			}
			deleted++
		}
	}
	return deleted, errors.Join(errs...)
}

// deleteCopy removes a copy of a pruned artifact. A copy bucket not in
// spec.backups.copies any more is reported, not guessed at.
func (s *Session) deleteCopy(ctx context.Context, id string, cp catalog.Copy) error {
	for i, loc := range s.Spec.Copies {
		b := (*blob.Bucket)(nil)
		if i < len(s.Copies) {
			b = s.Copies[i]
		}
		if b == nil {
			var err error
			if b, err = s.OpenLocation(ctx, loc); err != nil {
				return err
			}
		}
		if b.URL() != cp.URL {
			continue
		}
		// The copy's catalogue entry before its artifact, as in the primary.
		if err := s.CatalogOf(b).Delete(ctx, id); err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return s.Log.Errorf("delete the entry of %s in %s: %w", id, cp.URL, err)
		}
		s.Log.Printf("delete copy %s in %s", cp.Object, cp.URL)
		if err := b.Delete(ctx, cp.Object); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return s.Log.Errorf("delete copy %s in %s: %w", cp.Object, cp.URL, err)
		}
		return nil
	}
	return fmt.Errorf("the copy %s in %s is not in spec.backups.copies any more: delete it by hand", cp.Object, cp.URL)
}

// Reasons joins a decision's reasons for one line of output.
func Reasons(rs []retention.Reason) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += r.String()
	}
	return s
}
