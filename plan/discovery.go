package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// portNameCluster is the name of the cluster port (6000) of the Service
// the K8S resolver's label selector finds: tcp-tx in the Helm chart
// (templates/neo4j-svc.yaml) and in neo4jctl's layout
// (manifests.PortNameCluster; plan does not import manifests).
const portNameCluster = "tcp-tx"

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

// discoveryMissing lists what the manual's Preparation and first step
// lack on the servers: the v2 setting of their resolver type next to the
// v1 ones, and server-side routing on; fix is what to add to spec.config
// for it, one "key: value" per setting.
func (b *builder) discoveryMissing() (missing, fix []string) {
	fixed := map[string]bool{}
	for _, ls := range b.serverSettings(SettingDiscoveryVersion) {
		if !ls.ok {
			continue
		}
		who := displayName(ls.server, "")
		resolver, _ := b.settingOn(ls.server.ID, "dbms.cluster.discovery.resolver_type")
		key := "dbms.cluster.discovery.v2.endpoints" // LIST, DNS, SRV
		// The v2 endpoints are the servers' cluster addresses (port
		// 6000, server.cluster.listen_address), not the v1 discovery
		// ones (discovery.adoc § Preparation).
		value := "<the servers' dbms.cluster.discovery.endpoints with the cluster port (6000) instead of the discovery port (5000)>"
		if r := strings.ToUpper(strings.TrimSpace(resolver)); r == "K8S" || r == "" {
			key, value = "dbms.kubernetes.discovery.v2.service_port_name", portNameCluster
		}
		if v, ok := b.settingOn(ls.server.ID, key); !ok || strings.TrimSpace(v) == "" {
			missing = append(missing, who+" has no "+key)
			if !fixed[key] {
				fixed[key] = true
				fix = append(fix, key+": "+value)
			}
		}
		if v, ok := b.settingOn(ls.server.ID, "dbms.routing.enabled"); ok && strings.EqualFold(strings.TrimSpace(v), "false") {
			missing = append(missing, who+" has dbms.routing.enabled=false (server-side routing must be on)")
			if !fixed["dbms.routing.enabled"] {
				fixed["dbms.routing.enabled"] = true
				fix = append(fix, "dbms.routing.enabled: \"true\"")
			}
		}
	}
	slices.Sort(missing)
	slices.Sort(fix)
	return missing, fix
}

// discoveryPrepared checks the manual's Preparation on every server
// (discoveryMissing) before a move and refuses what is missing. The
// settings need a restart; the fix says exactly what to put in the
// cluster file so that the roll that brings them is an ordinary one
// (phase 1, the servers' discovery mode unchanged: discoveryTarget),
// after which the next plan moves (phase 2). Under neo4jctl's own layout
// the rendered configuration always carries the Preparation and V2_ONLY,
// so such a roll cannot be asked for through the file.
func (b *builder) discoveryPrepared(addr, from string) bool {
	missing, fix := b.discoveryMissing()
	if len(missing) == 0 {
		return true
	}
	b.discovery.refused = true
	reason := "the servers run discovery service v1 (" + from + ") and must move to v2 before any of them restarts onto discovery v2 only, but the manual's Preparation (Operations Manual 5.x, clustering/setup/discovery.adoc § Moving from discovery service v1 to v2, Preparation) is not done: " + strings.Join(missing, "; ")
	if !b.d.Cluster.IsHelmLayout() {
		b.refuse(addr, reason,
			"restart the servers with the v2 settings added to the v1 ones, one at a time, as the Operations Manual's \"In-place rolling\" (clustering/setup/discovery.adoc § Moving from discovery service v1 to v2) describes, then plan again")
		return false
	}
	cur := b.d.Version
	if u, ok := b.pendingUpgrade(); ok {
		cur = u.from.String()
	}
	b.refuse(addr, reason,
		fmt.Sprintf("two applies. Phase 1: keep spec.version on %s and %s=%s (or unset) in spec.config, add to spec.config %s, and apply: a rolling restart, one server at a time through the roll gate, that brings the Preparation and keeps discovery v1. Phase 2: set spec.version (and %s: V2_ONLY to stay on 5.x) and apply again: the plan then moves the cluster to v2 with the manual's procedure for moving an entire cluster before any server restarts",
			cur, SettingDiscoveryVersion, from, strings.Join(fix, ", "), SettingDiscoveryVersion))
	return false
}

// discoveryTarget is the discovery mode the roll restarts the servers
// with: V2_ONLY on a calendar version (v1 is gone) and under neo4jctl's
// layout (rendered); under the Helm layout what spec.config says (the
// chart's -user-config ConfigMap), else the default V1_ONLY.
func (b *builder) discoveryTarget(calendar bool) string {
	if calendar || !b.d.Cluster.IsHelmLayout() {
		return "V2_ONLY"
	}
	if v := strings.ToUpper(strings.TrimSpace(b.d.Settings[SettingDiscoveryVersion])); v != "" {
		return v
	}
	return "V1_ONLY"
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
// discovery mode to V2_ONLY to c, before the first roll of its servers,
// when that roll restarts them onto another mode than the one they run.
// persist says the servers stay on 5.x, where a discovery-verify step
// after the roll checks the rendered V2_ONLY took. A roll that keeps the
// servers' mode needs no move (a server restarts into what the others
// run); when it brings the manual's Preparation it is phase 1 of the
// move, and the returned note says so for the roll's reason.
func (b *builder) discoverySteps(c *chain, addr string, persist bool) string {
	if b.discovery.planned || b.discovery.refused {
		return ""
	}
	from := b.discoveryMode(addr)
	if from == "" {
		return ""
	}
	target := b.discoveryTarget(!persist)
	if target == from {
		if missing, _ := b.discoveryMissing(); len(missing) > 0 && b.preparationRendered() {
			return fmt.Sprintf("phase 1 of 2 of the move to discovery v2: the servers restart, one at a time, with the v2 settings the Operations Manual's Preparation adds next to the v1 ones, keeping %s=%s (clustering/setup/discovery.adoc § Moving from discovery service v1 to v2, Preparation); run plan and apply again with the new spec.version (or %s: V2_ONLY) to move to v2 (phase 2). ", SettingDiscoveryVersion, from, SettingDiscoveryVersion)
		}
		return ""
	}
	if target != "V2_ONLY" {
		b.discovery.refused = true
		b.refuse(addr, fmt.Sprintf("spec.config sets %s=%s while the servers run %s: the move between discovery modes is the manual's procedure, not a restart", SettingDiscoveryVersion, target, from),
			fmt.Sprintf("set %s to %s (no move) or V2_ONLY (the plan moves the cluster with the manual's procedure for moving an entire cluster)", SettingDiscoveryVersion, from))
		return ""
	}
	if !b.discoveryPrepared(addr, from) {
		return ""
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
	return ""
}

// preparationRendered says whether the configuration the roll brings
// sets the Preparation's v2 setting for every resolver the servers use:
// spec.config under the Helm layout (the -user-config ConfigMap), always
// under neo4jctl's (rendered next to V2_ONLY).
func (b *builder) preparationRendered() bool {
	if !b.d.Cluster.IsHelmLayout() {
		return true
	}
	_, fix := b.discoveryMissing()
	for _, f := range fix {
		key, _, _ := strings.Cut(f, ": ")
		if key == "dbms.routing.enabled" {
			if strings.EqualFold(strings.TrimSpace(b.d.Settings[key]), "false") || b.d.Settings[key] == "" {
				return false
			}
			continue
		}
		if strings.TrimSpace(b.d.Settings[key]) == "" {
			return false
		}
	}
	return true
}

// discoveryVerify adds, after each roll of a plan that moved discovery
// on 5.x, the check that every server runs V2_ONLY: the ones restarted
// by that roll took the rendered V2_ONLY, before the next StatefulSet's
// servers restart (the Helm layout rolls one StatefulSet per server,
// neo4jctl's one per pool).
func (b *builder) discoveryVerify(c *chain, addr string) {
	if !b.discovery.planned || !b.discovery.persist {
		return
	}
	c.add(Step{Address: "neo4j:setting/" + SettingDiscoveryVersion, Action: ActionRead, Kind: KindDiscoveryVerify,
		Discovery: &DiscoveryStep{From: "V2_ONLY", To: "V2_ONLY"},
		Reason:    "after the roll of " + addr + " every server runs dbms.cluster.discovery.version=V2_ONLY, the restarted ones from their configuration: CALL dbms.cluster.showParallelDiscoveryState() reports mode V2_ONLY on every server"})
}
