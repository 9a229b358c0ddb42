package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// A 5.x cluster still on discovery service v1 moves to v2 before any of
// its servers restarts onto a rendered configuration (neo4jctl renders
// dbms.cluster.discovery.version=V2_ONLY on 5.26; 2025.01 removed v1, the
// setting and the procedures: breaking-changes.adoc § Settings,
// § Procedures). A server restarted with V2_ONLY while the others run only
// v1 would not find them. The move follows the Operations Manual 5.x,
// clustering/setup/discovery.adoc § "Moving from discovery service v1 to
// v2", "Procedure for moving an entire cluster": with the Preparation's
// v2 settings on every server and server-side routing on, run CALL
// dbms.cluster.moveToNextDiscoveryVersion() three times (V1_ONLY →
// V1_OVER_V2 → V2_OVER_V1 → V2_ONLY), each followed by CALL
// dbms.cluster.showParallelDiscoveryState() until it reports the new mode
// with stateComparison "Matching" ("If they are not, wait and try
// again"; "N/A" for V2_ONLY, with no v1 left to compare). The switch is
// not persisted ("Remember to update the neo4j.conf files … when a server
// restarts, it starts right back with only v1 running"): the rendered
// configuration, which the roll that follows brings to every server, is
// what persists it.

// KindDiscoveryMove runs CALL dbms.cluster.moveToNextDiscoveryVersion()
// once (cluster-wide) unless every server already reports Discovery.To,
// then waits until every server reports Discovery.To (and "Matching" for
// the two parallel modes) in CALL dbms.cluster.showParallelDiscoveryState().
const KindDiscoveryMove Kind = "discovery-move"

// KindDiscoveryVerify checks, after the roll, that every server reports
// Discovery.To in CALL dbms.cluster.showParallelDiscoveryState(): the
// restarted servers took the rendered V2_ONLY.
const KindDiscoveryVerify Kind = "discovery-verify"

// SettingDiscoveryVersion selects the discovery service of a 5.x server;
// its default is V1_ONLY (configuration-settings.adoc §
// dbms.cluster.discovery.version).
const SettingDiscoveryVersion = "dbms.cluster.discovery.version"

// DiscoveryModes are the modes in the order the move goes through them.
var DiscoveryModes = []string{"V1_ONLY", "V1_OVER_V2", "V2_OVER_V1", "V2_ONLY"}

// DiscoveryStep is the mode a discovery step moves the cluster to (To
// drives apply) and the one it moves from (display).
type DiscoveryStep struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// discoveryPlan is what the plan holds of the move.
type discoveryPlan struct {
	planned bool
	to      string // V2_ONLY once planned
	// persist: the target stays on 5.x, where the rendered V2_ONLY can be
	// checked after the roll (2025.x has no showParallelDiscoveryState).
	persist bool
	// refused: the plan refuses the move (mixed modes, no Preparation).
	refused bool
}

// discoveryMode returns the mode the servers were started with (the
// SettingDiscoveryVersion they report), "" when they all run V2 already,
// the setting is not reported, or they are not on 5.x; with mixed modes
// it refuses.
func (b *builder) discoveryMode(addr string) string {
	if !b.enterprise || !b.neoKnown {
		return ""
	}
	seen := map[string][]string{}
	for _, ls := range b.serverSettings(SettingDiscoveryVersion) {
		if !ls.ok || (ls.server.State != state.ServerEnabled && ls.server.State != state.ServerCordoned) {
			continue
		}
		if v, ok := parseVersion(ls.server.Version); !ok || v.calendar() {
			continue
		}
		mode := strings.ToUpper(strings.TrimSpace(ls.set.Value))
		seen[mode] = append(seen[mode], displayName(ls.server, ""))
	}
	if len(seen) == 0 || (len(seen) == 1 && len(seen["V2_ONLY"]) > 0) {
		return ""
	}
	modes := sortedKeys(seen)
	if len(modes) > 1 {
		var parts []string
		for _, m := range modes {
			parts = append(parts, m+" on "+strings.Join(seen[m], ", "))
		}
		b.discovery.refused = true
		b.refuse(addr, "the servers were started with different discovery modes ("+strings.Join(parts, "; ")+"): the Operations Manual's procedure for moving an entire cluster fails on inconsistent dbms.cluster.discovery.version settings",
			"bring every server to one mode with the manual's \"Per server procedure\" (clustering/setup/discovery.adoc: CALL dbms.cluster.switchDiscoveryServiceVersion on each server over bolt://), then plan again")
		return ""
	}
	if !slices.Contains(DiscoveryModes, modes[0]) {
		b.discovery.refused = true
		b.refuse(addr, fmt.Sprintf("the servers report %s=%s, which is not a discovery mode", SettingDiscoveryVersion, modes[0]), "set one of "+strings.Join(DiscoveryModes, ", "))
		return ""
	}
	return modes[0]
}

// discoveryPrepared checks the manual's Preparation and first step on
// every server: the v2 settings of its resolver type are set next to the
// v1 ones, and server-side routing is on. It refuses what is missing: the
// settings need a restart, and restarting onto them is the manual's
// in-place rolling procedure, which neo4jctl does not run.
func (b *builder) discoveryPrepared(addr string) bool {
	var missing []string
	for _, ls := range b.serverSettings(SettingDiscoveryVersion) {
		if !ls.ok {
			continue
		}
		who := displayName(ls.server, "")
		resolver, _ := b.settingOn(ls.server.ID, "dbms.cluster.discovery.resolver_type")
		key := "dbms.cluster.discovery.v2.endpoints" // LIST, DNS, SRV
		if r := strings.ToUpper(strings.TrimSpace(resolver)); r == "K8S" || r == "" {
			key = "dbms.kubernetes.discovery.v2.service_port_name"
		}
		if v, ok := b.settingOn(ls.server.ID, key); !ok || strings.TrimSpace(v) == "" {
			missing = append(missing, who+" has no "+key)
		}
		if v, ok := b.settingOn(ls.server.ID, "dbms.routing.enabled"); ok && strings.EqualFold(strings.TrimSpace(v), "false") {
			missing = append(missing, who+" has dbms.routing.enabled=false (server-side routing must be on)")
		}
	}
	if len(missing) == 0 {
		return true
	}
	slices.Sort(missing)
	b.discovery.refused = true
	b.refuse(addr, "the servers run discovery service v1 and must move to v2 before any of them restarts onto the rendered configuration, but the manual's Preparation is not done: "+strings.Join(missing, "; "),
		"restart the servers with the v2 settings added to the v1 ones, one at a time, as the Operations Manual's \"In-place rolling\" (clustering/setup/discovery.adoc § Moving from discovery service v1 to v2) describes, then plan again")
	return false
}

// settingOn is the value server id reports for key: its own SHOW
// SETTINGS, or, without per-server observations, the one server the
// plan's connection reached.
func (b *builder) settingOn(id, key string) (string, bool) {
	if len(b.n.ServerSettings) > 0 {
		s, ok := b.n.ServerSettings[id][key]
		return s.Value, ok
	}
	s, ok := b.n.Settings[key]
	return s.Value, ok
}

// discoverySteps adds, once per plan, the move of a 5.x cluster from its
// discovery mode to V2_ONLY to c, before the first roll of its servers.
// persist says the servers stay on 5.x, where a discovery-verify step
// after the roll checks the rendered V2_ONLY took.
func (b *builder) discoverySteps(c *chain, addr string, persist bool) {
	if b.discovery.planned || b.discovery.refused {
		return
	}
	from := b.discoveryMode(addr)
	if from == "" || !b.discoveryPrepared(addr) {
		return
	}
	b.discovery = discoveryPlan{planned: true, to: "V2_ONLY", persist: persist}
	i := slices.Index(DiscoveryModes, from)
	for n, to := range DiscoveryModes[i+1:] {
		check := "stateComparison \"Matching\""
		if to == "V2_ONLY" {
			check = "stateComparison \"N/A\" (no v1 left to compare)"
		}
		c.add(Step{Address: "neo4j:setting/" + SettingDiscoveryVersion, Action: ActionNeo4j, Kind: KindDiscoveryMove,
			Discovery: &DiscoveryStep{From: DiscoveryModes[i+n], To: to},
			Reason: fmt.Sprintf("move discovery v1 → v2 before any server restarts (Operations Manual 5.x, clustering/setup/discovery.adoc § Moving from discovery service v1 to v2, Procedure for moving an entire cluster), %d of %d: CALL dbms.cluster.moveToNextDiscoveryVersion() (%s → %s), then CALL dbms.cluster.showParallelDiscoveryState() on every server until it reports mode %s with %s; not persisted by Neo4j: the rolling restart onto the rendered configuration persists it",
				n+1, len(DiscoveryModes)-1-i, DiscoveryModes[i+n], to, to, check)})
	}
}

// discoveryVerify adds, after the rolls of a plan that moved discovery on
// 5.x, the check that every restarted server runs V2_ONLY.
func (b *builder) discoveryVerify(c *chain, addr string) {
	if !b.discovery.planned || !b.discovery.persist {
		return
	}
	c.add(Step{Address: "neo4j:setting/" + SettingDiscoveryVersion, Action: ActionRead, Kind: KindDiscoveryVerify,
		Discovery: &DiscoveryStep{From: "V2_ONLY", To: "V2_ONLY"},
		Reason:    "after the roll every server started with the rendered dbms.cluster.discovery.version=V2_ONLY: CALL dbms.cluster.showParallelDiscoveryState() reports mode V2_ONLY on every server"})
	b.discovery.persist = false
}
