package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Freshness records what a plan was computed from, so that applying a saved
// plan can refuse when anything it relied on has moved since.
type Freshness struct {
	ClusterFileSHA256 string
	// RenderedDigest is the sha256 of the rendered objects' canonical JSON.
	RenderedDigest string
	// Objects are the observed objects (rendered and orphaned), by address.
	Objects []ObjectFreshness
	// Neo4jDigest covers only the Neo4j columns the plan used: server id,
	// state, health, hosting and options; database name, status, topology
	// counts and access. It leaves out replication lag and times, which move
	// constantly without changing any plan. Empty when Neo4j was not observed.
	Neo4jDigest string
}

// ObjectFreshness identifies one observed object's state. Fingerprint hashes
// the normalised fields neo4jctl compares; resourceVersion is deliberately
// absent because status updates change it constantly.
type ObjectFreshness struct {
	Address     string
	UID         string
	Generation  int64
	Fingerprint string
}

// StaleError is returned by CheckFresh; Moved lists what changed.
type StaleError struct {
	Moved []string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("Saved plan is stale: %s changed since the plan (run neo4jctl plan again)", strings.Join(e.Moved, ", "))
}

// CheckFresh compares the freshness record of a saved plan with that of a
// plan just computed from the same cluster file, and returns a *StaleError
// naming everything that moved, or nil.
func CheckFresh(saved, now *Plan) error {
	if saved == nil || now == nil {
		return fmt.Errorf("check plan freshness: missing plan")
	}
	var moved []string
	s, n := saved.Freshness, now.Freshness
	if s.ClusterFileSHA256 != n.ClusterFileSHA256 {
		moved = append(moved, "the cluster file")
	} else if s.RenderedDigest != n.RenderedDigest {
		// The same file rendering differently means neo4jctl itself changed.
		moved = append(moved, "the rendered objects")
	}
	sm := map[string]ObjectFreshness{}
	for _, o := range s.Objects {
		sm[o.Address] = o
	}
	nm := map[string]ObjectFreshness{}
	for _, o := range n.Objects {
		nm[o.Address] = o
	}
	var addrs []string
	for a := range sm {
		addrs = append(addrs, a)
	}
	for a := range nm {
		if _, ok := sm[a]; !ok {
			addrs = append(addrs, a)
		}
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		so, sok := sm[a]
		no, nok := nm[a]
		if !sok || !nok || so.UID != no.UID || so.Generation != no.Generation || so.Fingerprint != no.Fingerprint {
			moved = append(moved, a)
		}
	}
	if s.Neo4jDigest != n.Neo4jDigest {
		moved = append(moved, "the Neo4j cluster (servers or databases)")
	}
	if len(moved) > 0 {
		return &StaleError{Moved: moved}
	}
	return nil
}

// MismatchError is returned by CheckSameSteps: the saved plan's steps are
// not those a fresh plan computes. Diffs name each step that differs.
type MismatchError struct {
	Diffs []string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("Saved plan does not match what a fresh plan would do: %s; nothing was applied (run neo4jctl plan again)", strings.Join(e.Diffs, "; "))
}

// CheckSameSteps compares the steps of a saved plan with those of a plan
// just computed from the same cluster file and the same live state (after
// CheckFresh), and returns a *MismatchError unless they are the same. The
// freshness record says the inputs have not moved, but it cannot vouch
// for the steps: a plan file is only JSON, and a step added to it (a
// delete of a Service, a DROP SERVER) would otherwise run without a
// prompt. Every field that drives apply is compared — address, action,
// kind, irreversibility, dependencies, sequence, the object and the
// parameters of each statement (replicas, partition, server, database,
// setting, rollout) — and nothing that is only displayed.
func CheckSameSteps(saved, fresh *Plan) error {
	if saved == nil || fresh == nil {
		return fmt.Errorf("check saved plan: missing plan")
	}
	fm := map[string]Step{}
	for _, s := range fresh.Steps {
		fm[s.ID] = s
	}
	sm := map[string]bool{}
	var diffs []string
	for _, s := range saved.Steps {
		sm[s.ID] = true
		f, ok := fm[s.ID]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("step %s (%s %s) is not in a fresh plan", s.ID, s.Action, s.Address))
		case stepKey(s) != stepKey(f):
			diffs = append(diffs, fmt.Sprintf("step %s (%s %s) differs from a fresh plan's (%s %s)", s.ID, s.Action, s.Address, f.Action, f.Address))
		}
	}
	for _, f := range fresh.Steps {
		if !sm[f.ID] {
			diffs = append(diffs, fmt.Sprintf("a fresh plan's step %s (%s %s) is not in the saved plan", f.ID, f.Action, f.Address))
		}
	}
	if len(diffs) > 0 {
		return &MismatchError{Diffs: diffs}
	}
	return nil
}

// stepKey is the canonical JSON of the fields of a step that drive apply.
// The display-only fields of ServerStep (name, from and to state) are left
// out with the step's reason and diffs.
func stepKey(s Step) string {
	var srv *ServerStep
	if s.Server != nil {
		c := *s.Server
		c.Name, c.FromState, c.ToState = "", "", ""
		srv = &c
	}
	deps := s.DependsOn
	if len(deps) == 0 {
		deps = nil
	}
	return digest(struct {
		ID, Address, Action, Kind, Sequence string
		Irreversible                        bool
		DependsOn                           []string
		Object                              *ObjectRef
		Replicas, Partition                 *int32
		Server                              *ServerStep
		Database                            *DatabaseStep
		Setting                             *SettingStep
		Rollout                             *Rollout
		Resize                              *ClaimResize
		Batch                               *int32
	}{s.ID, s.Address, string(s.Action), string(s.Kind), s.Sequence, s.Irreversible, deps, s.Object,
		s.Replicas, s.Partition, srv, s.Database, s.Setting, s.Rollout, s.Resize, s.Batch})
}

func freshness(d Desired, k state.Kube, n state.Neo4j, neoKnown bool) Freshness {
	f := Freshness{ClusterFileSHA256: d.ClusterFileSHA256}
	var rendered []any
	for _, o := range k.Objects {
		rendered = append(rendered, o.Desired)
	}
	f.RenderedDigest = digest(rendered)
	add := func(o state.Object) {
		fp := o.Fingerprint
		if fp == "" && o.Live != nil {
			fp = digest(o.Live)
		}
		f.Objects = append(f.Objects, ObjectFreshness{Address: o.Address, UID: o.UID, Generation: o.Generation, Fingerprint: fp})
	}
	for _, o := range k.Objects {
		add(o)
	}
	for _, o := range k.Orphans {
		add(o)
	}
	sort.Slice(f.Objects, func(i, j int) bool { return f.Objects[i].Address < f.Objects[j].Address })
	if neoKnown {
		f.Neo4jDigest = neo4jDigest(n)
	}
	return f
}

func neo4jDigest(n state.Neo4j) string {
	type srv struct {
		ID, State, Health, Mode string
		Hosting, Tags, Allowed  []string
		Denied                  []string
	}
	type db struct {
		Name, Server, Role, Status, Access string
		P, S                               int64
	}
	var servers []srv
	for _, s := range n.Servers {
		servers = append(servers, srv{s.ID, s.State, s.Health, s.ModeConstraint, sorted(s.Hosting), sorted(s.Tags), sorted(s.AllowedDatabases), sorted(s.DeniedDatabases)})
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
	var dbs []db
	for _, a := range n.Databases {
		dbs = append(dbs, db{a.Name, a.ServerID, a.Role, a.CurrentStatus, a.Access, a.RequestedPrimaries, a.RequestedSecondaries})
	}
	sort.Slice(dbs, func(i, j int) bool {
		if dbs[i].Name != dbs[j].Name {
			return dbs[i].Name < dbs[j].Name
		}
		return dbs[i].Server < dbs[j].Server
	})
	return digest(struct {
		Edition   string
		Servers   []srv
		Databases []db
	}{n.Edition, servers, dbs})
}

// digest is the sha256 of v's JSON; encoding/json sorts map keys, which
// makes the JSON canonical for the map-shaped objects hashed here.
func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
