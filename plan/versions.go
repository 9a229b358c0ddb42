package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// version is a Neo4j version: semantic (5.26.0) until 5.26 LTS, calendar
// (2025.01.0, YYYY.MM.PATCH) from January 2025. The leading number orders
// both kinds (2025 > 5), as the releases do.
type version struct {
	raw   string
	parts [3]int
}

func parseVersion(s string) (version, bool) {
	v := version{raw: s}
	core := strings.TrimSpace(s)
	// Suffixes: "-enterprise" image tags, "-aura", build metadata.
	if i := strings.IndexAny(core, "-+ "); i >= 0 {
		core = core[:i]
	}
	fields := strings.Split(core, ".")
	if len(fields) < 2 || len(fields) > 3 {
		return v, false
	}
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return v, false
		}
		v.parts[i] = n
	}
	return v, true
}

func (v version) calendar() bool { return v.parts[0] >= 2025 }

func (v version) less(o version) bool {
	for i := range v.parts {
		if v.parts[i] != o.parts[i] {
			return v.parts[i] < o.parts[i]
		}
	}
	return false
}

func (v version) String() string { return v.raw }

// upgradePath says whether Neo4j supports upgrading from to to directly
// (Upgrade and Migration Guide: "Neo4j 5 upgrade and migration" — any 5
// version to any later 5 minor or patch, or to 5.26 LTS; "Upgrade to any
// Neo4j 2025–2026 version" — any calendar version to any later one, and
// 5.26 LTS to any calendar version; 5.26 LTS is a checkpoint: anything
// older goes to 5.26 first; 4.4 to 5 is a migration, not an upgrade).
// The reason explains a refusal and names the fix.
func upgradePath(from, to version) (bool, string) {
	switch {
	case !from.calendar() && from.parts[0] < 5:
		return false, fmt.Sprintf("Neo4j %s to %s is a migration (neo4j-admin database migrate), not a rolling upgrade: migrate to 5.26 LTS first", from, to)
	case !from.calendar() && !to.calendar():
		return true, ""
	case from.calendar() && to.calendar():
		return true, ""
	case !from.calendar() && to.calendar():
		if from.parts[0] == 5 && from.parts[1] >= 26 {
			return true, ""
		}
		return false, fmt.Sprintf("Neo4j 5.26 LTS is a checkpoint: %s must be upgraded to 5.26 first, then to %s", from, to)
	}
	return false, fmt.Sprintf("no upgrade path from %s to %s", from, to)
}

// versions is the versions guard: the versions the servers report are
// compared with spec.version before anything is written. A downgrade is
// refused (Neo4j supports none), an upgrade must follow a supported path,
// and a server that still reports another version when no rolling update
// of its Pod is planned means the upgrade did not happen (an image that
// does not run spec.version): that is refused too, so apply's verifying
// plan fails instead of reporting success.
func (b *builder) versions(rolling bool) {
	want, ok := parseVersion(b.d.Version)
	if b.d.Version == "" || !b.neoKnown {
		return
	}
	addr := stsAddress(b.d.Namespace, b.p.Cluster)
	if len(b.d.Pools) > 0 {
		addr = stsAddress(b.d.Namespace, b.d.Pools[0].StatefulSet)
	}
	if !ok {
		b.warn("spec.version %q is not a Neo4j version neo4jctl can compare (5.26.0 or 2025.10.1): the versions guard is off.", b.d.Version)
		return
	}
	seen := map[string][]string{} // reported version → servers
	for _, id := range sortedKeys(b.n.Servers) {
		s := b.n.Servers[id]
		if s.State == state.ServerDropped || s.Version == "" {
			continue
		}
		seen[s.Version] = append(seen[s.Version], displayName(s, ""))
	}
	if len(b.n.Servers) == 0 && b.n.Version != "" {
		seen[b.n.Version] = []string{"the server"}
	}
	vs := sortedKeys(seen)
	sort.SliceStable(vs, func(i, j int) bool {
		a, _ := parseVersion(vs[i])
		c, _ := parseVersion(vs[j])
		return a.less(c)
	})
	for _, raw := range vs {
		have, ok := parseVersion(raw)
		who := strings.Join(seen[raw], ", ")
		switch {
		case !ok:
			b.warn("servers %s report version %q, which neo4jctl cannot compare with spec.version %s.", who, raw, want)
		case want.less(have):
			b.refuse(addr, fmt.Sprintf("spec.version %s is older than %s, which %s %s: Neo4j does not support downgrades (a store written by a newer version cannot be opened by an older one)", want, have, who, plural(int64(len(seen[raw])), "runs", "run")),
				fmt.Sprintf("set spec.version back to %s (or newer); to go back, restore a backup taken on the older version into a new cluster", have))
		case have.less(want):
			if ok, why := upgradePath(have, want); !ok {
				b.refuse(addr, fmt.Sprintf("cannot upgrade %s from %s to %s: %s", who, have, want, why),
					"set spec.version to a version the Upgrade and Migration Guide allows from "+have.String())
			} else if !rolling {
				b.refuse(addr, fmt.Sprintf("%s %s version %s, the cluster file says %s, and no rolling update of their Pods is planned: the upgrade did not happen", who, plural(int64(len(seen[raw])), "reports", "report"), have, want),
					"make the image run spec.version (check spec.image), or set spec.version to the version the servers run")
			}
		}
	}
}
