package drift

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// FormatVersion is the version of the report's JSON form (docs/drift.md).
const FormatVersion = "1"

// Severity ranks findings and violations; CI fails on those at or above a
// chosen severity (--fail-on).
type Severity string

// Severities, lowest first.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityError    Severity = "error"
	SeverityCritical Severity = "critical"
)

// ParseSeverity reads info, warning, error or critical.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range clusterfile.Severities {
		if strings.EqualFold(s, v) {
			return Severity(v), nil
		}
	}
	return "", fmt.Errorf("unknown severity %q (want %s)", s, strings.Join(clusterfile.Severities, ", "))
}

func (s Severity) rank() int {
	for i, v := range clusterfile.Severities {
		if string(s) == v {
			return i
		}
	}
	return len(clusterfile.Severities) // unknown: treat as the most severe, never as harmless
}

// AtLeast reports whether s is min or more severe.
func (s Severity) AtLeast(min Severity) bool { return s.rank() >= min.rank() }

// Planes.
const (
	PlaneKubernetes = "kubernetes"
	PlaneNeo4j      = "neo4j"
)

// FindingKind says what kind of difference a finding is.
type FindingKind string

// Finding kinds.
const (
	// Changed is a field whose live value differs from the desired one.
	Changed FindingKind = "changed"
	// Missing is an object, server or database that does not exist.
	Missing FindingKind = "missing"
	// Extra is something neo4jctl manages that the cluster file no longer
	// declares: an object of its inventory, a server beyond the replicas.
	Extra FindingKind = "extra"
	// Unhealthy is a server that is not Enabled and Available, or a
	// database allocation that is not online.
	Unhealthy FindingKind = "unhealthy"
)

// Finding is one out-of-band difference.
type Finding struct {
	// Address is the object's address (k8s:…, neo4j:server/<id>,
	// neo4j:database/<name>, neo4j:setting/<key>).
	Address string      `json:"address"`
	Plane   string      `json:"plane"`
	Kind    FindingKind `json:"kind"`
	// Field is the dotted path inside the object (list elements keyed like
	// managedFields: spec.template.spec.containers[name=neo4j].image; keys
	// of neo4j.conf as data.neo4j.conf[server.memory.heap.max_size]), or the
	// Neo4j column: state, health, status, topology, access, options, value.
	Field string `json:"field,omitempty"`
	// Live and Desired are redacted: a secret is "(sensitive)".
	Live    any `json:"live,omitempty"`
	Desired any `json:"desired,omitempty"`
	// Manager is the field manager that changed the field (Kubernetes only;
	// empty when managedFields do not say, e.g. a removed field).
	Manager   string   `json:"manager,omitempty"`
	Sensitive bool     `json:"sensitive,omitempty"`
	Severity  Severity `json:"severity"`
	Message   string   `json:"message"`
	// Source is the cluster-file field that renders what drifted and Line
	// where it is written (for annotations); 0 when unknown.
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`
}

// Unknown is a plane that could not be observed.
type Unknown struct {
	Plane  string `json:"plane"`
	Reason string `json:"reason"`
}

// Summary counts a report.
type Summary struct {
	Kubernetes int `json:"kubernetes"`
	Neo4j      int `json:"neo4j"`
	Violations int `json:"violations"`
	// Managers are the field managers that made the Kubernetes changes.
	Managers []string `json:"managers,omitempty"`
}

// Report is the result of one drift check of one cluster.
type Report struct {
	FormatVersion string `json:"format_version"`
	Cluster       string `json:"cluster"`
	Namespace     string `json:"namespace"`
	// File is the cluster file the report compares with.
	File string `json:"file,omitempty"`
	// Mode is how the Kubernetes plane was compared: "dry-run" (forced
	// server-side apply) or "structural" (read-only credentials); ModeReason
	// says why structural was used.
	Mode       string     `json:"mode"`
	ModeReason string     `json:"mode_reason,omitempty"`
	CheckedAt  *time.Time `json:"checked_at,omitempty"`

	Findings   []Finding   `json:"findings"`
	Violations []Violation `json:"violations"`
	// Incomplete is set when a plane could not be observed: the report is
	// not the whole truth and drift exits 1.
	Incomplete bool      `json:"incomplete"`
	Unknown    []Unknown `json:"unknown,omitempty"`
	Warnings   []string  `json:"warnings"`
	Summary    Summary   `json:"summary"`
}

// InSync reports whether nothing drifted and no policy is violated.
func (r *Report) InSync() bool { return len(r.Findings) == 0 && len(r.Violations) == 0 }

// Fails reports whether a finding or violation is at least failOn severe:
// what makes drift exit 2.
func (r *Report) Fails(failOn Severity) bool {
	for _, f := range r.Findings {
		if f.Severity.AtLeast(failOn) {
			return true
		}
	}
	for _, v := range r.Violations {
		if v.Severity.AtLeast(failOn) {
			return true
		}
	}
	return false
}

// Name is "<namespace>/<cluster>".
func (r *Report) Name() string { return r.Namespace + "/" + r.Cluster }

// FromPlan turns a plan and the observation it was computed from into a drift
// report: every change the plan would make to a rendered object, and every
// Neo4j server, database and setting that differs from the cluster file.
// It is pure; Detect observes and calls it. Policies are not evaluated here.
func FromPlan(p *plan.Plan, obs pipeline.Observed, t *pipeline.Target) *Report {
	b := &builder{t: t, obs: obs, ignore: IgnoreRules(t.Cluster), seen: map[string]bool{}, members: map[string]bool{}}
	b.r = &Report{
		FormatVersion: FormatVersion, Cluster: p.Cluster, Namespace: p.Namespace, File: t.File,
		Mode: p.KubeMode, Incomplete: p.Incomplete, Findings: []Finding{}, Violations: []Violation{},
		Warnings: append([]string{}, p.Warnings...),
	}
	if b.r.Cluster == "" && t.Cluster != nil {
		b.r.Cluster = t.Cluster.Metadata.Name
	}
	if b.r.Namespace == "" {
		b.r.Namespace = t.Namespace
	}
	for _, u := range p.Unknown {
		b.r.Unknown = append(b.r.Unknown, Unknown{Plane: u.Plane, Reason: u.Reason})
	}
	for _, rf := range p.Refusals {
		b.r.Warnings = append(b.r.Warnings, fmt.Sprintf("%s: apply would refuse: %s (%s)", rf.Address, rf.Reason, rf.Fix))
	}
	b.stsLive = map[string]int{}
	for _, o := range obs.Kube.Objects {
		if o.Kind == "StatefulSet" && o.Live != nil {
			b.stsLive[o.Name] = liveReplicas(o.Live)
		}
	}
	for _, s := range p.Steps {
		b.step(s)
	}
	// What a refusal holds back is a difference too: without it an
	// intruder's spec.replicas would read "in sync" whenever the scale it
	// implies is refused.
	for _, w := range p.Withheld {
		if w.Object != nil {
			b.objectStep(plan.Step{Address: w.Address, Object: w.Object, Action: plan.ActionUpdate, FieldDiffs: w.FieldDiffs})
		}
	}
	if obs.Neo4j.Reachable && !p.Incomplete {
		b.servers()
		b.databases()
		b.settings()
	}
	b.r.finish()
	return b.r
}

// finish sorts and counts.
func (r *Report) finish() {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Plane != b.Plane {
			return a.Plane == PlaneKubernetes
		}
		if a.Address != b.Address {
			return a.Address < b.Address
		}
		return a.Field < b.Field
	})
	sort.SliceStable(r.Violations, func(i, j int) bool {
		a, b := r.Violations[i], r.Violations[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Address < b.Address
	})
	s := Summary{Violations: len(r.Violations)}
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if f.Plane == PlaneKubernetes {
			s.Kubernetes++
		} else {
			s.Neo4j++
		}
		if f.Manager != "" && !seen[f.Manager] {
			seen[f.Manager] = true
			s.Managers = append(s.Managers, f.Manager)
		}
	}
	sort.Strings(s.Managers)
	r.Summary = s
}

type builder struct {
	t       *pipeline.Target
	obs     pipeline.Observed
	ignore  []plan.IgnoreRule
	r       *Report
	stsLive map[string]int
	// members are the serverIds of the servers of the cluster's Pods.
	members map[string]bool
	// seen holds "address field" of findings already made, so a difference
	// that both a plan step and the direct comparison see is reported once.
	seen map[string]bool
}

func (b *builder) add(f Finding) {
	key := f.Address + " " + f.Field
	if b.seen[key] || b.seen[f.Address+" "] {
		return
	}
	if f.Plane == PlaneNeo4j && ignoredNeo4j(b.ignore, f.Address, f.Field) {
		return
	}
	b.seen[key] = true
	f.Source = sourcePath(b.t.Cluster, f)
	if b.t.Cluster != nil {
		f.Line = b.t.Cluster.LineOf(f.Source)
	}
	b.r.Findings = append(b.r.Findings, f)
}

func (b *builder) step(s plan.Step) {
	switch {
	case s.Object != nil:
		b.objectStep(s)
	case s.Kind == plan.KindAlterServer && s.Server != nil:
		b.add(Finding{Address: s.Address, Plane: PlaneNeo4j, Kind: Changed, Field: "options",
			Live: jsonValue(s.Before), Desired: jsonValue(s.After), Severity: SeverityError,
			Message: fmt.Sprintf("server %s has options %s, the cluster file says %s", serverName(s.Server), show(jsonValue(s.Before)), show(jsonValue(s.After)))})
	case (s.Kind == plan.KindDeallocate || s.Kind == plan.KindWaitDeallocated || s.Kind == plan.KindDropServer) && s.Server != nil:
		b.add(Finding{Address: s.Address, Plane: PlaneNeo4j, Kind: Extra, Severity: SeverityWarning,
			Message: fmt.Sprintf("server %s is beyond the servers the cluster file declares (apply would deallocate and drop it)", serverName(s.Server))})
	case s.Kind == plan.KindCreateDatabase && s.Database != nil:
		b.add(Finding{Address: s.Address, Plane: PlaneNeo4j, Kind: Missing, Severity: SeverityError,
			Desired: s.After, Message: fmt.Sprintf("database %s does not exist", s.Database.Name)})
	case (s.Kind == plan.KindAlterTopology || s.Kind == plan.KindAlterAccess) && s.Database != nil:
		field := "topology"
		if s.Kind == plan.KindAlterAccess {
			field = "access"
		}
		b.add(Finding{Address: s.Address, Plane: PlaneNeo4j, Kind: Changed, Field: field, Live: s.Before, Desired: s.After,
			Severity: SeverityError, Message: fmt.Sprintf("database %s has %s %s, the cluster file says %s", s.Database.Name, field, show(s.Before), show(s.After))})
	}
	// Server joins, enables and setting steps are found by comparing the
	// observed Neo4j state directly (servers, settings), which also sees
	// what plan has no step for (an Unavailable server); rolling updates and
	// waits are consequences, not differences.
}

func (b *builder) objectStep(s plan.Step) {
	o := s.Object
	what := fmt.Sprintf("%s %s/%s", o.Kind, o.Namespace, o.Name)
	switch s.Action {
	case plan.ActionCreate:
		b.add(Finding{Address: s.Address, Plane: PlaneKubernetes, Kind: Missing, Severity: SeverityError,
			Message: what + " is missing"})
		return
	case plan.ActionDelete:
		b.add(Finding{Address: s.Address, Plane: PlaneKubernetes, Kind: Extra, Severity: SeverityWarning,
			Message: what + " is no longer in the cluster file (apply would delete it)"})
		return
	case plan.ActionRead:
		return
	}
	for _, fd := range s.FieldDiffs {
		if o.Kind == "ConfigMap" && strings.HasPrefix(fd.Path, "data.") && b.confFindings(s, fd) {
			continue
		}
		if sameQuantity(fd.Before, fd.After) {
			// The structural comparison sees the rendered "1000m" against the
			// API server's canonical "1"; a dry run never does.
			continue
		}
		manager := fd.Manager
		if manager == "" {
			manager = b.listManager(s.Address, fd.Path)
		}
		f := Finding{Address: s.Address, Plane: PlaneKubernetes, Kind: Changed, Field: fd.Path,
			Live: fd.Before, Desired: fd.After, Manager: manager, Sensitive: fd.Sensitive, Severity: SeverityError}
		f.Message = changeMessage(fd.Path, fd.Before, fd.After, manager)
		b.add(f)
	}
}

// listManager attributes a change inside a keyed list element when
// managedFields cannot do it directly: the diff keys elements by name
// (ports[name=bolt]) but managedFields key them by their merge keys
// (ports[port=17687,protocol=TCP]), so a changed port belongs to a manager
// of an element the diff does not name. When exactly one manager other
// than neo4jctl owns elements of that list, it made the change.
func (b *builder) listManager(addr, field string) string {
	i := strings.Index(field, "[")
	if i <= 0 {
		return ""
	}
	list := field[:i] + "["
	var found string
	for _, o := range b.obs.Kube.Objects {
		if o.Address != addr {
			continue
		}
		for _, m := range o.Managers {
			if m.Manager == "neo4jctl" || m.Operation == "Apply" {
				continue
			}
			for _, f := range m.Fields {
				if strings.HasPrefix(f, list) {
					if found != "" && found != m.Manager {
						return ""
					}
					found = m.Manager
					break
				}
			}
		}
	}
	return found
}

// confFindings splits a change of a key=value file in a ConfigMap (neo4j.conf)
// into one finding per setting, so the report and the annotations name the
// setting, not a 40-line string. It reports false when the values are not
// such files.
func (b *builder) confFindings(s plan.Step, fd plan.FieldDiff) bool {
	before, okB := fd.Before.(string)
	after, okA := fd.After.(string)
	if !okB || !okA || fd.Sensitive {
		return false
	}
	lb, la := parseConf(before), parseConf(after)
	if lb == nil || la == nil {
		return false
	}
	keys := map[string]bool{}
	for k := range lb {
		keys[k] = true
	}
	for k := range la {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		if lb[k] != la[k] {
			sorted = append(sorted, k)
		}
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		f := Finding{Address: s.Address, Plane: PlaneKubernetes, Kind: Changed, Field: fd.Path + "[" + k + "]",
			Manager: fd.Manager, Severity: SeverityError}
		if v, ok := lb[k]; ok {
			f.Live = v
		}
		if v, ok := la[k]; ok {
			f.Desired = v
		}
		f.Sensitive = f.Live == plan.Sensitive || f.Desired == plan.Sensitive
		f.Message = changeMessage(f.Field, f.Live, f.Desired, fd.Manager)
		b.add(f)
	}
	return len(sorted) > 0
}

// parseConf reads key=value lines; nil when s is not such a file.
func parseConf(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// servers reports every server of a Pod the cluster keeps that is missing
// or not Enabled and Available.
func (b *builder) servers() {
	d := b.t.Desired
	if d.Edition == string(clusterfile.EditionCommunity) || b.obs.Neo4j.Edition == "community" {
		return
	}
	// Several rows can claim one Pod's address (a server whose volume was
	// replaced stays listed, Unavailable): plan.PodServer decides, as it
	// does for plan.
	claims := map[string][]state.Server{}
	ids := make([]string, 0, len(b.obs.Neo4j.Servers))
	for id := range b.obs.Neo4j.Servers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := b.obs.Neo4j.Servers[id]
		if s.ID == "" {
			s.ID = id
		}
		if s.State == state.ServerDropped {
			continue
		}
		h := normHost(s.Address)
		claims[h] = append(claims[h], s)
	}
	byHost := map[string]state.Server{}
	for h, rows := range claims {
		byHost[h], _ = plan.PodServer(rows)
	}
	for _, pl := range d.Pools {
		live, ok := b.stsLive[pl.StatefulSet]
		if !ok {
			continue // the StatefulSet itself is missing: one finding says so
		}
		for ord := 0; ord < min(live, int(pl.Replicas)); ord++ {
			pod := fmt.Sprintf("%s-%d", pl.StatefulSet, ord)
			var s state.Server
			found := false
			if d.PodAddress != nil {
				s, found = byHost[normHost(d.PodAddress(pl.StatefulSet, ord))]
			} else {
				for h, srv := range byHost {
					if strings.HasPrefix(h, pod+".") {
						s, found = srv, true
					}
				}
			}
			if !found {
				b.add(Finding{Address: "neo4j:server/" + pod, Plane: PlaneNeo4j, Kind: Missing, Severity: SeverityCritical,
					Desired: state.ServerEnabled, Message: fmt.Sprintf("Pod %s has no server in SHOW SERVERS", pod)})
				continue
			}
			b.members[s.ID] = true
			name := pod
			if s.Name != "" && s.Name != s.ID && s.Name != pod {
				name = s.Name + " (" + pod + ")"
			}
			addr := "neo4j:server/" + s.ID
			switch {
			case s.State != state.ServerEnabled:
				b.add(Finding{Address: addr, Plane: PlaneNeo4j, Kind: Unhealthy, Field: "state", Live: s.State, Desired: state.ServerEnabled,
					Severity: SeverityCritical, Message: fmt.Sprintf("server %s is %s, want %s", name, s.State, state.ServerEnabled)})
			case s.Health != state.HealthAvailable:
				b.add(Finding{Address: addr, Plane: PlaneNeo4j, Kind: Unhealthy, Field: "health", Live: orUnknown(s.Health), Desired: state.HealthAvailable,
					Severity: SeverityCritical, Message: fmt.Sprintf("server %s is %s, want %s", name, orUnknown(s.Health), state.HealthAvailable)})
			}
		}
	}
}

// databases reports the declared databases, system and the default
// database when an allocation on a server of the cluster's Pods is not
// online. Allocations on other servers (left behind by a scale-in or a
// replaced volume) are not the cluster file's concern: the servers are
// reported themselves when they matter.
func (b *builder) databases() {
	want := map[string]bool{"system": true}
	for _, db := range b.t.Desired.Databases {
		want[db.Name] = true
	}
	type bad struct{ where []string }
	notOnline := map[string]*bad{}
	var names []string
	for _, a := range b.obs.Neo4j.Databases {
		if !want[a.Name] && !a.Default {
			continue
		}
		if len(b.obs.Neo4j.Servers) > 0 && !b.members[a.ServerID] {
			continue
		}
		if a.CurrentStatus == "online" && (a.RequestedStatus == "" || a.RequestedStatus == "online") {
			continue
		}
		nb := notOnline[a.Name]
		if nb == nil {
			nb = &bad{}
			notOnline[a.Name] = nb
			names = append(names, a.Name)
		}
		where := a.ServerID
		if s, ok := b.obs.Neo4j.Servers[a.ServerID]; ok && s.Name != "" && s.Name != s.ID {
			where = s.Name
		} else if host := normHost(a.Address); host != "" {
			where, _, _ = strings.Cut(host, ".")
		}
		nb.where = append(nb.where, fmt.Sprintf("%s on %s", orUnknown(a.CurrentStatus), orUnknown(where)))
	}
	sort.Strings(names)
	for _, n := range names {
		w := notOnline[n].where
		sort.Strings(w)
		b.add(Finding{Address: "neo4j:database/" + n, Plane: PlaneNeo4j, Kind: Unhealthy, Field: "status",
			Live: strings.Join(w, ", "), Desired: "online", Severity: SeverityCritical,
			Message: fmt.Sprintf("database %s is not online: %s", n, strings.Join(w, ", "))})
	}
}

// settings compares the settings the cluster file sets with what each
// server reports (settings are per server: state.Neo4j.ServerSettings,
// else the one server the connection reached), with the comparison plan
// uses (clusterfile.SameSettingValue). initial.* settings are read once,
// at creation.
func (b *builder) settings() {
	keys := make([]string, 0, len(b.t.Desired.Settings))
	for k := range b.t.Desired.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := b.t.Desired.Settings[k]
		if clusterfile.InitialSetting(k) {
			continue
		}
		var live string
		var where []string
		found := false
		differs := func(s state.Setting, ok bool, server string) {
			if ok && !clusterfile.SameSettingValue(want, s.Value) {
				if !found {
					live, found = s.Value, true
				}
				if server != "" {
					where = append(where, server)
				}
			}
		}
		if per := b.obs.Neo4j.ServerSettings; len(per) > 0 {
			ids := make([]string, 0, len(per))
			for id := range per {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				s, ok := per[id][k]
				name := id
				if srv, known := b.obs.Neo4j.Servers[id]; known && srv.Name != "" {
					name = srv.Name
				}
				differs(s, ok, name)
			}
		} else {
			s, ok := b.obs.Neo4j.Settings[k]
			differs(s, ok, "")
		}
		if !found {
			continue
		}
		f := Finding{Address: "neo4j:setting/" + k, Plane: PlaneNeo4j, Kind: Changed, Field: "value",
			Live: live, Desired: want, Severity: SeverityError}
		if plan.SensitiveKey(k) {
			f.Live, f.Desired, f.Sensitive = plan.Sensitive, plan.Sensitive, true
		}
		on := "on the servers"
		if len(where) > 0 {
			on = "on " + strings.Join(where, ", ")
		}
		f.Message = fmt.Sprintf("%s is %s %s, the cluster file says %s", k, show(f.Live), on, show(f.Desired))
		b.add(f)
	}
}

// sameQuantity reports two strings that are the same Kubernetes quantity
// written differently (cpu 1 and 1000m, memory 1Gi and 1024Mi).
func sameQuantity(a, b any) bool {
	as, okA := a.(string)
	bs, okB := b.(string)
	if !okA || !okB || as == bs {
		return false
	}
	qa, errA := resource.ParseQuantity(as)
	qb, errB := resource.ParseQuantity(bs)
	return errA == nil && errB == nil && qa.Cmp(qb) == 0
}

// IgnoreRules converts the cluster file's spec.ignore into plan rules.
func IgnoreRules(c *clusterfile.Cluster) []plan.IgnoreRule {
	if c == nil {
		return nil
	}
	var out []plan.IgnoreRule
	for _, r := range c.Spec.Ignore {
		out = append(out, plan.IgnoreRule{Address: r.Address, JSONPointers: r.JSONPointers, Managers: r.ManagedFieldsManagers})
	}
	return out
}

// ignoredNeo4j applies ignore rules to a Neo4j finding: a rule whose address
// matches and one of whose pointers is "/", "/*" or "/<field>" hides it.
func ignoredNeo4j(rules []plan.IgnoreRule, addr, field string) bool {
	for _, r := range rules {
		if !matchAddress(r.Address, addr) {
			continue
		}
		for _, p := range r.JSONPointers {
			if p == "/" || p == "/*" || p == "" || (field != "" && p == "/"+field) {
				return true
			}
		}
	}
	return false
}

func changeMessage(field string, live, desired any, manager string) string {
	var msg string
	switch {
	case live == nil:
		msg = fmt.Sprintf("%s is not set, the cluster file says %s", field, show(desired))
	case desired == nil:
		msg = fmt.Sprintf("%s is %s, which the cluster file does not set", field, show(live))
	default:
		msg = fmt.Sprintf("%s is %s, the cluster file says %s", field, show(live), show(desired))
	}
	if manager != "" {
		msg += " (changed by " + manager + ")"
	}
	return msg
}

// show renders a value for a message: strings quoted, the rest as compact
// JSON, long values cut.
func show(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "(none)"
	case string:
		if x == plan.Sensitive {
			return x
		}
		s = fmt.Sprintf("%q", x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			s = fmt.Sprint(x)
		} else {
			s = string(b)
		}
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// jsonValue turns a typed value (plan.ServerOptions) into its JSON shape so
// reports and digests see the same thing whether built here or decoded.
func jsonValue(v any) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return string(b)
	}
	return out
}

func serverName(s *plan.ServerStep) string {
	pod := fmt.Sprintf("%s-%d", s.StatefulSet, s.Ordinal)
	if s.Name != "" && s.Name != s.ServerID && s.Name != pod {
		return s.Name + " (" + pod + ")"
	}
	return pod
}

func liveReplicas(live map[string]any) int {
	spec, _ := live["spec"].(map[string]any)
	switch r := spec["replicas"].(type) {
	case float64:
		return int(r)
	case int64:
		return int(r)
	case int:
		return r
	}
	return 1 // the API server's default
}

func normHost(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if i := strings.LastIndex(addr, ":"); i >= 0 && !strings.Contains(addr[i+1:], "]") {
		addr = addr[:i]
	}
	return strings.TrimSuffix(addr, ".")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
