package plan

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Options tune Compute. The zero value plans everything and refuses
// replacements and conflicts.
type Options struct {
	// AllowReplace permits deleting and recreating objects whose immutable
	// fields changed (--allow-replace).
	AllowReplace bool
	// ForceConflicts permits taking over fields another Apply-operation
	// manager owns (--force-conflicts).
	ForceConflicts bool
	// Targets and Excludes are addresses or path.Match globs ("*" does not
	// cross "/"). A safe sequence is kept or dropped whole; targets pull in
	// what they depend on, excludes drop what depends on them.
	Targets  []string
	Excludes []string
	// Ignore drops fields other controllers own from the diff; an object
	// whose only differences are ignored shows no change.
	Ignore []IgnoreRule
	// SkipNeo4j plans the Kubernetes plane only (--skip-neo4j).
	SkipNeo4j bool
	// SkipBackupCheck leaves out an upgrade's backup pre-flight
	// (--skip-backup-check); the plan says so (plan/upgrade.go).
	SkipBackupCheck bool
	// Now stamps the plan; nil leaves CreatedAt zero (golden tests).
	Now func() time.Time
}

// IgnoreRule is one spec.ignore entry of the cluster file.
type IgnoreRule struct {
	// Address is an object address or glob.
	Address string
	// JSONPointers are RFC 6901 pointers; a list element may be named by its
	// index, its key value ("containers/neo4j") or "*".
	JSONPointers []string
	// Managers are field managers (managedFields) whose changes are ignored.
	Managers []string
}

const (
	stageIdentity = iota
	stageNetwork
	stageServers
	stageSettings
	stageDatabases
	stageDeletes
)

// draft is a step under construction: deps point at other drafts until IDs
// are assigned in the final order.
type draft struct {
	Step
	stage   int
	sortKey string
	seq     int
	deps    []*draft
}

type builder struct {
	d    Desired
	k    state.Kube
	n    state.Neo4j
	opts Options
	p    *Plan

	drafts []*draft

	enterprise bool
	neoKnown   bool // the Neo4j plane was observed and is to be planned
	fresh      bool // no StatefulSet exists yet: there is no Neo4j to observe

	byPod map[string]map[int]state.Server
	// rollouts are the rolling updates of this plan; an earlier
	// configuration revision is deleted only after them.
	rollouts []*draft
	// sysRefused: the system primaries' refusal is in the plan already.
	sysRefused bool
	// discovery: the discovery v1 → v2 move is in the plan already
	// (discovery.go; it is cluster-wide, planned once before any roll).
	discovery discoveryPlan
	// tlsReloaded: the reload-tls steps of a renewed certificate are in
	// the plan already (tlsreload.go).
	tlsReloaded bool
	// replaced are the servers a Pod's current server replaced (PodServer).
	replaced map[string]map[int][]state.Server
	dbs      map[string]*liveDB
	ndbs     []string
	// stsLive is the live replicas of every StatefulSet (pools and orphans).
	stsLive map[string]int

	// The scale-in sequence of the plan (scalein.go): the servers leaving,
	// the pool chains that wait for them, the ids the one DEALLOCATE names
	// and Neo4j's answer to its DRYRUN.
	retiring       []retiree
	afterRetire    []*chain
	leaving        map[string]bool
	deallocIDs     []string
	deallocDryRun  *state.DryRun
	scaleInChecked bool
	scaleInGlobal  []Refusal
	// joined are the pool chains in which servers join an existing
	// cluster: the scale-out ends with a REALLOCATE after all of them.
	joined []*chain
}

// Compute plans the changes that take the observed state (k, n) to the
// desired state (d). It returns an error only for invalid options; anything
// wrong with the cluster is a refusal, warning or unknown plane in the Plan.
func Compute(d Desired, k state.Kube, n state.Neo4j, opts Options) (*Plan, error) {
	for _, g := range append(append([]string{}, opts.Targets...), opts.Excludes...) {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("bad address pattern %q: %w", g, err)
		}
	}
	for _, r := range opts.Ignore {
		if _, err := path.Match(r.Address, ""); err != nil {
			return nil, fmt.Errorf("ignore rule: bad address pattern %q: %w", r.Address, err)
		}
		for _, ptr := range r.JSONPointers {
			if ptr != "" && !strings.HasPrefix(ptr, "/") {
				return nil, fmt.Errorf("ignore rule %s: JSON pointer %q must start with /", r.Address, ptr)
			}
		}
	}

	b := &builder{d: d, k: k, n: n, opts: opts, p: &Plan{
		FormatVersion: FormatVersion,
		Namespace:     d.Namespace,
		KubeMode:      k.Mode,
	}}
	if d.Cluster != nil {
		b.p.Cluster = d.Cluster.Metadata.Name
	}
	if opts.Now != nil {
		b.p.CreatedAt = opts.Now().UTC()
	}
	b.p.Edition = d.Edition
	if n.Reachable && n.Edition != "" {
		b.p.Edition = n.Edition
	}
	if b.p.Edition == "" {
		b.p.Edition = "enterprise"
	}
	b.enterprise = b.p.Edition == "enterprise"
	b.refuseImported()

	if !k.Reachable {
		b.p.Incomplete = true
		b.p.Unknown = append(b.p.Unknown, UnknownPlane{Plane: "kubernetes", Reason: orUnknown(k.Reason)})
	}

	objects := sortedObjects(k.Objects)
	orphans := sortedObjects(k.Orphans)
	b.stsLive = map[string]int{}
	stsObj := map[string]*state.Object{}
	for i := range objects {
		if objects[i].Kind == "StatefulSet" {
			stsObj[objects[i].Name] = &objects[i]
			b.stsLive[objects[i].Name] = liveReplicas(objects[i].Live)
		}
	}
	for i := range orphans {
		if orphans[i].Kind == "StatefulSet" {
			b.stsLive[orphans[i].Name] = liveReplicas(orphans[i].Live)
		}
	}
	// A new cluster has nothing of it live yet: there is no Neo4j to
	// observe, and everything is created. A cluster whose StatefulSets are
	// gone but whose other objects remain is not new: its servers and
	// databases may well exist on the volumes the StatefulSets leave
	// behind, and with no Pod to ask, that is unknown, not absent.
	b.fresh = k.Reachable && len(orphans) == 0
	noServers := k.Reachable
	for _, pl := range d.Pools {
		if o := stsObj[pl.StatefulSet]; o == nil || o.Live != nil {
			b.fresh, noServers = false, false
		}
	}
	for _, o := range objects {
		if o.Live != nil {
			b.fresh = false
		}
	}

	switch {
	case opts.SkipNeo4j:
		b.p.Warnings = append(b.p.Warnings, "The Neo4j plane was not planned (--skip-neo4j): no server, database or setting steps.")
	case n.Reachable:
		b.neoKnown = true
	case !b.fresh:
		b.p.Incomplete = true
		reason := orUnknown(n.Reason)
		if noServers && !b.fresh {
			reason = "no server to ask: the StatefulSets of the cluster do not exist, but its other objects do, so its servers and databases may exist on the volumes they left (" + reason + "). Recreate the StatefulSets with neo4jctl apply --skip-neo4j (Kubernetes only), then plan again"
		}
		b.p.Unknown = append(b.p.Unknown, UnknownPlane{Plane: "neo4j", Reason: reason})
	}
	if b.neoKnown {
		b.indexNeo4j()
	}

	var config []*draft
	for _, o := range objects {
		if o.Kind == "StatefulSet" {
			continue
		}
		if dr := b.objectChange(o); dr != nil {
			dr.stage = stageOf(o.Kind)
			dr.sortKey = o.Address
			b.add(dr)
			if dr.stage == stageIdentity {
				config = append(config, dr)
			}
		}
	}

	// Every StatefulSet's change is diffed first: the scale-in sequence
	// spans the pools, and its DRYRUN names every outgoing server.
	stsDrafts := map[string]*draft{}
	for _, pl := range d.Pools {
		if o := stsObj[pl.StatefulSet]; o != nil {
			stsDrafts[pl.StatefulSet] = b.objectChange(*o)
		}
	}
	b.leaving = map[string]bool{}
	b.prepareScaleIn(d.Pools, stsObj, stsDrafts, orphans)

	var tails, rollouts []*draft
	for _, pl := range d.Pools {
		tail, roll := b.pool(pl, stsObj[pl.StatefulSet], stsDrafts[pl.StatefulSet], config)
		if tail != nil {
			tails = append(tails, tail)
		}
		rollouts = append(rollouts, roll...)
	}
	b.rollouts = rollouts
	rolled := map[string]bool{}
	for _, r := range rollouts {
		if r.Rollout != nil {
			rolled[r.Rollout.StatefulSet] = true
		}
	}
	if b.neoKnown && !b.helmLayout() {
		// An adopted chart server keeps the system database mode the
		// chart gave it: neo4jctl renders none for it.
		b.systemModeWarnings(rolled)
	}
	for _, o := range orphans {
		b.orphan(o)
	}
	b.retireAll()
	b.versions(len(rollouts) > 0)
	if bal := b.balance(); bal != nil {
		tails = []*draft{bal}
	}
	b.settings(config, rollouts)
	b.databases(tails)
	b.helmKept()
	b.finish()
	return b.p, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "not observed"
	}
	return s
}

func sortedObjects(in []state.Object) []state.Object {
	out := append([]state.Object(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// stageOf puts identity and configuration first (a StatefulSet must not roll
// onto a ConfigMap that is not there yet), then Services and policies.
func stageOf(kind string) int {
	switch kind {
	case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Secret":
		return stageIdentity
	case "StatefulSet":
		return stageServers
	}
	return stageNetwork
}

func liveReplicas(live map[string]any) int {
	if live == nil {
		return 0
	}
	spec, _ := live["spec"].(map[string]any)
	if r, ok := toFloat(spec["replicas"]); ok {
		return int(r)
	}
	return 1 // the API server's default
}

func (b *builder) add(dr *draft) *draft {
	dr.seq = len(b.drafts)
	b.drafts = append(b.drafts, dr)
	return dr
}

func (b *builder) refuse(addr, reason, fix string) {
	b.p.Refusals = append(b.p.Refusals, Refusal{Address: addr, Reason: reason, Fix: fix})
}

func (b *builder) warn(format string, args ...any) {
	b.p.Warnings = append(b.p.Warnings, fmt.Sprintf(format, args...))
}

func objectRef(o state.Object) *ObjectRef {
	return &ObjectRef{Group: o.Group, Version: o.Version, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// objectChange diffs one rendered object; nil means no change.
func (b *builder) objectChange(o state.Object) *draft {
	for _, c := range o.Conflicts {
		b.p.Conflicts = append(b.p.Conflicts, Conflict{Address: o.Address, Field: c.Field, Manager: c.Manager})
	}
	if len(o.Conflicts) > 0 && !b.opts.ForceConflicts {
		var fs []string
		for _, c := range o.Conflicts {
			fs = append(fs, fmt.Sprintf("%s (%s)", c.Field, c.Manager))
		}
		b.refuse(o.Address, "fields are owned by another apply manager: "+strings.Join(fs, ", "),
			"pass --force-conflicts to take ownership, or stop the other tool from managing them")
	}
	dr := &draft{Step: Step{Address: o.Address, Object: objectRef(o)}}
	switch {
	case o.Live == nil:
		after := o.Predicted
		if after == nil {
			after = o.Desired
		}
		dr.Action, dr.Kind = ActionCreate, KindApply
		dr.Reason = "not in the cluster"
		dr.After = redact(o.Kind, nil, after)
		return dr
	case o.Immutable && b.refuseHelmReplace(o):
		return nil
	case o.Immutable:
		diffs := b.fieldDiffs(o, o.Live, o.Desired, true)
		for i := range diffs {
			diffs[i].ForcesReplacement = forcesReplacement(o.Kind, diffs[i].Path) || len(diffs) == 1
		}
		dr.Action, dr.Kind = ActionReplace, KindReplace
		dr.Reason = "an immutable field changed"
		if o.DryRunError != "" {
			dr.Reason += ": " + o.DryRunError
		}
		if o.Kind == "StatefulSet" {
			dr.Reason += stsReplaceEffect
		}
		dr.Before, dr.After, dr.FieldDiffs = redact(o.Kind, nil, o.Live), redact(o.Kind, nil, o.Desired), diffs
		if !b.opts.AllowReplace {
			fix := "pass --allow-replace to delete and recreate it"
			if o.Kind == "StatefulSet" {
				fix = stsReplaceFix
			}
			b.refuse(o.Address, "changing an immutable field needs the object deleted and recreated", fix)
		}
		return dr
	case o.DryRunError != "":
		b.refuse(o.Address, "the API server refused the dry run: "+o.DryRunError,
			"correct the cluster file (the message says what the API server rejects) and plan again")
		return nil
	}
	after, subset := o.Predicted, false
	if after == nil {
		after, subset = o.Desired, true
	}
	diffs := b.fieldDiffs(o, o.Live, after, subset)
	if len(diffs) == 0 {
		return b.takeOver(o, dr)
	}
	dr.Action, dr.Kind = ActionUpdate, KindApply
	dr.Reason = updateReason(diffs)
	dr.Before, dr.After, dr.FieldDiffs = redact(o.Kind, nil, o.Live), redact(o.Kind, nil, after), diffs
	return dr
}

func updateReason(diffs []FieldDiff) string {
	var managers []string
	seen := map[string]bool{}
	for _, f := range diffs {
		if f.Manager != "" && !seen[f.Manager] {
			seen[f.Manager] = true
			managers = append(managers, f.Manager)
		}
	}
	if len(managers) > 0 {
		return "changed out of band by " + strings.Join(managers, ", ")
	}
	return "differs from the cluster file"
}

// fieldDiffs diffs live against after, drops ignored fields, attributes
// changes to their managers and redacts values.
func (b *builder) fieldDiffs(o state.Object, live, after map[string]any, subset bool) []FieldDiff {
	var raw []rawDiff
	diffValues(live, after, nil, subset, &raw)
	if len(raw) == 0 {
		return nil
	}
	redLive, redAfter := redact(o.Kind, nil, live), redact(o.Kind, nil, after)
	var out []FieldDiff
	for _, r := range raw {
		p := joinPath(r.segs)
		manager := managerOf(o.Managers, r.segs, live, after)
		if b.ignored(o.Address, r.segs, manager) {
			continue
		}
		f := FieldDiff{Path: p, Manager: manager}
		if !r.absentBefore {
			f.Before, _ = lookup(redLive, r.segs)
		}
		if !r.absentAfter {
			f.After, _ = lookup(redAfter, r.segs)
		}
		if equalValues(f.Before, f.After) && !r.absentBefore && !r.absentAfter {
			// Only a secret part differs: say so without showing it.
			f.Before, f.After, f.Sensitive = Sensitive, Sensitive, true
		}
		if s, ok := f.Before.(string); ok && s == Sensitive {
			f.Sensitive = true
		}
		if s, ok := f.After.(string); ok && s == Sensitive {
			f.Sensitive = true
		}
		if !f.Sensitive && needsHunks(f.Before, f.After) {
			bs, _ := f.Before.(string)
			as, _ := f.After.(string)
			f.Hunks = unifiedHunks(bs, as)
		}
		out = append(out, f)
	}
	return out
}

// managerOf returns the manager other than neo4jctl owning the field, the
// one who changed it out of band. The diff keys a list element by the first
// of listKeys (ports[name=http]) while managedFields key it as the API
// server's schema does (ports[port=7474,protocol=TCP]); elements are matched
// by resolving the diff's element in the live object (or, for an element
// only the cluster file has, in after) and checking the managed key there.
func managerOf(ms []state.FieldManager, segs []string, live, after map[string]any) string {
	p := joinPath(segs)
	owns := func(m state.FieldManager) bool {
		for _, f := range m.Fields {
			if pathWithin(p, f) || pathWithin(f, p) || managedPathMatches(f, segs, live, after) {
				return true
			}
		}
		return false
	}
	ours := false
	for _, m := range ms {
		if m.Manager == "neo4jctl" && owns(m) {
			ours = true
		}
	}
	for _, m := range ms {
		if m.Manager == "neo4jctl" {
			continue
		}
		if m.Manager == HelmManager && ours {
			// Helm keeps a share of every field neo4jctl took over with
			// the same value (layout: helm): a shared field was last set
			// by neo4jctl, not changed out of band by helm.
			continue
		}
		for _, f := range m.Fields {
			if pathWithin(p, f) || pathWithin(f, p) || managedPathMatches(f, segs, live, after) {
				return m.Manager
			}
		}
	}
	return ""
}

// managedPathMatches reports whether the managedFields path f names the
// field at segs, a parent of it or a field below it, matching list elements
// by value in the objects rather than by how their key is written.
func managedPathMatches(f string, segs []string, objs ...map[string]any) bool {
	pos := 0
	for i, s := range segs {
		if pos == len(f) {
			return true // f is a parent of the diffed field
		}
		if !strings.HasPrefix(s, "[") {
			text := s
			if i > 0 {
				text = "." + s
			}
			if !strings.HasPrefix(f[pos:], text) {
				return false
			}
			pos += len(text)
			if pos < len(f) && f[pos] != '.' && f[pos] != '[' {
				return false // only a prefix of a longer key
			}
			continue
		}
		if f[pos] != '[' {
			return false
		}
		end := strings.IndexByte(f[pos:], ']')
		if end < 0 {
			return false
		}
		fkey := f[pos+1 : pos+end]
		pos += end + 1
		if "["+fkey+"]" == s {
			continue
		}
		matched := false
		for _, obj := range objs {
			if sameElement(obj, segs[:i], s, fkey) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true // equal, or f is below the diffed field
}

// sameElement reports whether the list element the diff segment seg names,
// in the list at parent of obj, is the one the managedFields key fkey
// ("port=7474,protocol=TCP", "=value" for a set, "3" for an index) names.
func sameElement(obj map[string]any, parent []string, seg, fkey string) bool {
	v, ok := lookup(obj, parent)
	if !ok {
		return false
	}
	list, ok := v.([]any)
	if !ok {
		return false
	}
	idx := -1
	inner := seg[1 : len(seg)-1]
	if k, val, keyed := strings.Cut(inner, "="); keyed {
		for i, e := range list {
			if m, ok := e.(map[string]any); ok && scalarString(m[k]) == val {
				idx = i
				break
			}
		}
	} else if i, err := strconv.Atoi(inner); err == nil && i >= 0 && i < len(list) {
		idx = i
	}
	if idx < 0 {
		return false
	}
	elem := list[idx]
	if i, err := strconv.Atoi(fkey); err == nil {
		return i == idx
	}
	if val, ok := strings.CutPrefix(fkey, "="); ok {
		return isScalar(elem) && scalarString(elem) == val
	}
	m, ok := elem.(map[string]any)
	if !ok {
		return false
	}
	for _, kv := range strings.Split(fkey, ",") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return false
		}
		got, present := m[k]
		if !present || !isScalar(got) || scalarString(got) != val {
			return false
		}
	}
	return true
}

func (b *builder) ignored(addr string, segs []string, manager string) bool {
	for _, r := range b.opts.Ignore {
		if !matchAddress(r.Address, addr) {
			continue
		}
		if manager != "" {
			for _, m := range r.Managers {
				if m == manager {
					return true
				}
			}
		}
		for _, ptr := range r.JSONPointers {
			if pointerCovers(ptr, segs) {
				return true
			}
		}
	}
	return false
}

// pointerCovers reports whether the JSON pointer names the field or one of
// its parents.
func pointerCovers(ptr string, segs []string) bool {
	if ptr == "" || ptr == "/" {
		return true
	}
	parts := strings.Split(ptr[1:], "/")
	if len(parts) > len(segs) {
		return false
	}
	for i, p := range parts {
		p = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		s := segs[i]
		if p == "*" || p == s {
			continue
		}
		if strings.HasPrefix(s, "[") {
			inner := strings.Trim(s, "[]")
			if inner == p {
				continue
			}
			if _, v, ok := strings.Cut(inner, "="); ok && v == p {
				continue
			}
		}
		return false
	}
	return true
}

func matchAddress(pattern, addr string) bool {
	if pattern == addr {
		return true
	}
	ok, _ := path.Match(pattern, addr)
	return ok
}

func hasDiff(dr *draft, field string) bool {
	if dr == nil {
		return false
	}
	for _, f := range dr.FieldDiffs {
		if pathWithin(f.Path, field) {
			return true
		}
	}
	return false
}

// dropReplicas removes the spec.replicas change from a StatefulSet step whose
// scale sequence was refused; nil when nothing else changes.
func dropReplicas(dr *draft) *draft {
	if dr == nil {
		return nil
	}
	var keep []FieldDiff
	for _, f := range dr.FieldDiffs {
		if !pathWithin(f.Path, "spec.replicas") {
			keep = append(keep, f)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	dr.FieldDiffs = keep
	return dr
}

// finish filters by target and exclude, orders the steps, assigns IDs and
// counts.
func (b *builder) finish() {
	keep := b.selectDrafts()
	sort.SliceStable(keep, func(i, j int) bool {
		a, c := keep[i], keep[j]
		if a.stage != c.stage {
			return a.stage < c.stage
		}
		if a.sortKey != c.sortKey {
			return a.sortKey < c.sortKey
		}
		return a.seq < c.seq
	})
	kept := map[*draft]bool{}
	width := 2
	if len(keep) >= 100 {
		width = len(fmt.Sprint(len(keep)))
	}
	for i, dr := range keep {
		dr.ID = fmt.Sprintf("s%0*d", width, i+1)
		kept[dr] = true
	}
	for _, dr := range keep {
		dr.DependsOn = nil
		seen := map[string]bool{}
		for _, dep := range dr.deps {
			if kept[dep] && !seen[dep.ID] {
				seen[dep.ID] = true
				dr.DependsOn = append(dr.DependsOn, dep.ID)
			}
		}
		sort.Strings(dr.DependsOn)
		b.p.Steps = append(b.p.Steps, dr.Step)
	}
	b.p.Summary = summarize(b.p.Steps)
	b.p.Freshness = freshness(b.d, b.k, b.n, b.neoKnown)
}

func (b *builder) selectDrafts() []*draft {
	if len(b.opts.Targets) == 0 && len(b.opts.Excludes) == 0 {
		return b.drafts
	}
	b.warn("Targeting is in effect: the plan may leave the cluster partly converged; run a full plan afterwards.")
	matches := func(globs []string, addr string) bool {
		for _, g := range globs {
			if matchAddress(g, addr) {
				return true
			}
		}
		return false
	}
	in := map[*draft]bool{}
	if len(b.opts.Targets) == 0 {
		for _, dr := range b.drafts {
			in[dr] = true
		}
	} else {
		for _, dr := range b.drafts {
			if matches(b.opts.Targets, dr.Address) {
				in[dr] = true
			}
		}
		// Pull in whole sequences and everything selected steps depend on.
		for changed := true; changed; {
			changed = false
			for _, dr := range b.drafts {
				if in[dr] {
					continue
				}
				for _, o := range b.drafts {
					if in[o] && (o.Sequence != "" && o.Sequence == dr.Sequence || contains(o.deps, dr)) {
						in[dr], changed = true, true
						break
					}
				}
			}
		}
	}
	out := map[*draft]bool{}
	for _, dr := range b.drafts {
		if matches(b.opts.Excludes, dr.Address) {
			out[dr] = true
		}
	}
	// Drop whole sequences and everything that depends on a dropped step.
	for changed := true; changed; {
		changed = false
		for _, dr := range b.drafts {
			if out[dr] {
				continue
			}
			for _, o := range b.drafts {
				if out[o] && (o.Sequence != "" && o.Sequence == dr.Sequence || contains(dr.deps, o)) {
					out[dr], changed = true, true
					break
				}
			}
		}
	}
	var keep []*draft
	for _, dr := range b.drafts {
		if in[dr] && !out[dr] {
			keep = append(keep, dr)
		}
	}
	var refusals []Refusal
	for _, r := range b.p.Refusals {
		if (len(b.opts.Targets) == 0 || matches(b.opts.Targets, r.Address)) && !matches(b.opts.Excludes, r.Address) {
			refusals = append(refusals, r)
		}
	}
	b.p.Refusals = refusals
	return keep
}

func contains(ds []*draft, d *draft) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}
