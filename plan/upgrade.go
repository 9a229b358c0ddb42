package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// KindUpgradePreflight checks, before the server of Server.Name is
// restarted onto a new Neo4j version, what the Upgrade and Migration
// Guide's in-place rolling upgrade asks before each server ("In-place
// rolling upgrade of a cluster", Upgrade steps, 1. "Check the cluster is
// healthy"; the same two queries in the Operations Manual 5.x
// cloud-deployments/neo4j-aws.adoc § "Remove a server from the Neo4j
// cluster"): SHOW SERVERS YIELD name, hosting, requestedHosting, serverId
// WHERE requestedHosting <> hosting and SHOW DATABASES YIELD name,
// address, currentStatus, requestedStatus, statusMessage WHERE
// currentStatus <> requestedStatus both return no rows. Apply waits for
// that (up to the step timeout) and stops the upgrade otherwise; the
// health gate (healthcheck.CanLose, healthcheck.ServerBack) then runs in
// the rolling-update step that follows.
const KindUpgradePreflight Kind = "upgrade-preflight"

// KindUpgradeVerify, after the last restart of an upgrade, waits until
// the server of every Pod in Rollout.Pods reports Upgrade.To in SHOW
// SERVERS. Nothing else is sent: the system database needs no explicit
// upgrade call (dbms.upgrade() is deprecated since 5.9 and removed in
// Cypher 25, Operations Manual procedures/built-in-procedures.adoc §
// dbms.upgrade()), and a store's upgrade to the latest MINOR format
// version happens on database startup (database-administration/
// standard-databases/migrate-database.adoc § Migrate a database).
const KindUpgradeVerify Kind = "upgrade-verify"

// UpgradeStep is the version upgrade a step belongs to. To drives
// upgrade-verify; From is display only.
type UpgradeStep struct {
	From string `json:"from"`
	To   string `json:"to"`
	// MaxBackupAge, when set, is the pre-flight's backup check: every
	// database of the cluster file has a catalogued backup younger than
	// it (spec.backups with spec.upgrade.maxBackupAge; not set with
	// --skip-backup-check or without spec.backups).
	MaxBackupAge string `json:"max_backup_age,omitempty"`
}

// Upgrade preflight statements, verbatim from the guide (see
// KindUpgradePreflight); apply evaluates them on the rows it reads.
const (
	PreflightServers   = "SHOW SERVERS YIELD name, hosting, requestedHosting, serverId WHERE requestedHosting <> hosting"
	PreflightDatabases = "SHOW DATABASES YIELD name, address, currentStatus, requestedStatus, statusMessage WHERE currentStatus <> requestedStatus"
)

// upgrade is a version upgrade the servers are in the middle of or about
// to start: the oldest version a server reports, and spec.version.
type upgrade struct {
	from, to version
	path     string
}

// pendingUpgrade says whether some server still runs a version older than
// spec.version along a supported path (the versions guard refuses the
// others), and which.
func (b *builder) pendingUpgrade() (upgrade, bool) {
	want, ok := parseVersion(b.d.Version)
	if !ok || !b.neoKnown {
		return upgrade{}, false
	}
	var olds []version
	for _, s := range b.n.Servers {
		if s.State == state.ServerDropped || s.Version == "" {
			continue
		}
		if have, ok := parseVersion(s.Version); ok && have.less(want) {
			olds = append(olds, have)
		}
	}
	if len(olds) == 0 {
		return upgrade{}, false
	}
	sort.Slice(olds, func(i, j int) bool { return olds[i].less(olds[j]) })
	u := upgrade{from: olds[0], to: want}
	if ok, _ := upgradePath(u.from, u.to); !ok {
		return upgrade{}, false
	}
	switch {
	case !u.from.calendar() && u.to.calendar():
		u.path = "5.26 LTS to a calendar version (Upgrade and Migration Guide, \"Upgrade to any Neo4j 2025–2026 version\")"
	case u.from.calendar():
		u.path = "calendar version to a later one (Upgrade and Migration Guide, \"Upgrade to any Neo4j 2025–2026 version\")"
	default:
		u.path = "Neo4j 5 to a later 5 version (Upgrade and Migration Guide, \"Upgrade to 5.x or 5.26 LTS\")"
	}
	return u, true
}

// preflightReason is the plan's account of an upgrade's pre-flight for
// one server: the upgrade, its path, and each check apply runs.
func (b *builder) preflightReason(u upgrade, pod string) string {
	checks := []string{
		PreflightServers + " returns no rows",
		PreflightDatabases + " returns no rows",
		"the health gate passes (every other server Available, a majority of every database's primaries online without " + pod + ")",
		b.backupCheck(),
	}
	return fmt.Sprintf("upgrade %s → %s (path: %s): pre-flight before %s: %s", u.from, u.to, u.path, pod, strings.Join(checks, "; "))
}

// backupCheck is the plan's account of the pre-flight's backup check:
// with spec.backups, apply looks in the catalogue for a backup of every
// database younger than spec.upgrade.maxBackupAge before each server
// (UpgradeStep.MaxBackupAge); --skip-backup-check leaves it out, said so.
func (b *builder) backupCheck() string {
	if b.opts.SkipBackupCheck {
		return "backup check skipped (--skip-backup-check)"
	}
	if age := b.maxBackupAge(); age != "" {
		return "every database has a catalogued backup younger than " + age + " (spec.upgrade.maxBackupAge; --skip-backup-check leaves this out)"
	}
	return "no backup check: spec.backups is not set (--skip-backup-check not needed)"
}

// maxBackupAge is the pre-flight's backup age limit, "" when there is no
// backup check (no spec.backups, or --skip-backup-check).
func (b *builder) maxBackupAge() string {
	if b.opts.SkipBackupCheck || b.d.Cluster == nil || b.d.Cluster.Spec.Backups == nil {
		return ""
	}
	return b.d.Cluster.MaxBackupAge().String()
}

// discoveryV2 refuses an upgrade to a calendar version while the servers
// run discovery service v1 and the plan does not move them to v2 first
// (discovery.go; it refuses itself what it cannot do): 2025.01 removed v1,
// and the move to v2 must be done on 5.x first (Upgrade and Migration
// Guide, "In-place rolling upgrade of a cluster" for 2025–2026;
// Operations Manual 5.x, clustering/setup/discovery.adoc § "Moving from
// discovery service v1 to v2").
func (b *builder) discoveryV2(u upgrade, addr string) {
	if !u.to.calendar() || u.from.calendar() || b.discovery.planned || b.discovery.refused {
		return
	}
	s, ok := b.n.Settings[SettingDiscoveryVersion]
	if !ok || s.Value == "" || s.Value == "V2_ONLY" {
		return
	}
	b.refuse(addr, fmt.Sprintf("cannot upgrade to %s: the servers run dbms.cluster.discovery.version=%s, and Neo4j 2025.01 removed discovery service v1", u.to, s.Value),
		fmt.Sprintf("keep spec.version on %s, move the cluster to discovery v2 following the Operations Manual's \"Moving from discovery service v1 to v2\" (clustering/setup/discovery.adoc: set dbms.kubernetes.discovery.v2.service_port_name, run the procedure for moving an entire cluster, then V2_ONLY), then plan the upgrade again", u.from))
}

// rollSteps adds the rolling-update step of one StatefulSet to c. During
// a version upgrade it is one rolling-update step per Pod, highest ordinal
// first, each preceded by its upgrade pre-flight: apply's rolling update
// releases the Pods of a step in order and sends the rendered object (no
// partition) only for ordinal 0, so splitting changes nothing else, and a
// stopped apply leaves the partition on the Pod it stopped at, where the
// next plan resumes.
func (b *builder) rollSteps(c *chain, roll Step) []*draft {
	u, ok := b.pendingUpgrade()
	if roll.Rollout != nil && roll.Rollout.Servers {
		// Discovery v1 → v2 first, while every server still runs 5.x
		// and before any restarts onto the rendered V2_ONLY or 2025.x.
		roll.Reason = b.discoverySteps(c, roll.Address, !ok || !u.to.calendar()) + roll.Reason
	}
	if !ok || roll.Rollout == nil || !roll.Rollout.Servers {
		d := c.add(roll)
		b.discoveryVerify(c, roll.Address)
		return []*draft{d}
	}
	b.discoveryV2(u, roll.Address)
	up := &UpgradeStep{From: u.from.String(), To: u.to.String(), MaxBackupAge: b.maxBackupAge()}
	var out []*draft
	for _, pod := range roll.Rollout.Pods {
		c.add(Step{Address: roll.Address, Action: ActionRead, Kind: KindUpgradePreflight, Object: roll.Object, Upgrade: up,
			Rollout: &Rollout{StatefulSet: roll.Rollout.StatefulSet, Pods: []string{pod}},
			Reason:  b.preflightReason(u, pod)})
		one := roll
		r := *roll.Rollout
		r.Pods = []string{pod}
		one.Rollout = &r
		one.Reason = fmt.Sprintf("upgrade %s → %s: restart %s onto %s, ", u.from, u.to, pod, u.to) + roll.Reason
		out = append(out, c.add(one))
	}
	// The Pods this apply restarts; those an earlier, stopped apply
	// restarted are checked by the versions guard of apply's verifying
	// plan, which refuses any server still on another version.
	all := slices.Clone(roll.Rollout.Pods)
	c.add(Step{Address: roll.Address, Action: ActionRead, Kind: KindUpgradeVerify, Object: roll.Object, Upgrade: up,
		Rollout: &Rollout{StatefulSet: roll.Rollout.StatefulSet, Pods: all, PodAddresses: roll.Rollout.PodAddresses},
		Reason:  fmt.Sprintf("upgrade %s → %s: every server of %s reports %s (SHOW SERVERS); nothing else to run: the system database needs no dbms.upgrade() (deprecated 5.9, removed in Cypher 25) and stores move to the new MINOR format on startup", u.from, u.to, strings.Join(all, ", "), u.to)})
	b.discoveryVerify(c, roll.Address)
	return out
}

// ordinalOfPod is the ordinal of a StatefulSet Pod name, or -1.
func ordinalOfPod(pod string) int {
	i := strings.LastIndexByte(pod, '-')
	if i < 0 {
		return -1
	}
	n := 0
	for _, r := range pod[i+1:] {
		if r < '0' || r > '9' {
			return -1
		}
		n = n*10 + int(r-'0')
	}
	if i+1 == len(pod) {
		return -1
	}
	return n
}
