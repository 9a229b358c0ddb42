package plan

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// liveDB aggregates the SHOW DATABASES rows (one per allocation) of one
// database.
type liveDB struct {
	Name, Access, Type string
	Default            bool
	ReqP, ReqS         int64
	CurP, CurS         int64
	NotOnline          []allocation
	Primaries          []string // serverIds hosting it as primary
}

// allocation is one allocation of a database that is not online.
type allocation struct {
	Status   string // currentStatus, "unknown" when empty
	Message  string // statusMessage: why, when Neo4j says
	ServerID string
	Where    string // the server's display name, for messages
}

// describe lists allocations as "offline on prod-1: <statusMessage>".
func describe(as []allocation) string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Status + " on " + a.Where
		if a.Message != "" {
			out[i] += ": " + a.Message
		}
	}
	return strings.Join(out, ", ")
}

// movingStatuses are the states of an allocation a DEALLOCATE is moving onto
// a remaining server.
var movingStatuses = map[string]bool{"store copying": true, "starting": true, "initial": true}

func (b *builder) indexNeo4j() {
	b.dbs = map[string]*liveDB{}
	for _, a := range b.n.Databases {
		db := b.dbs[a.Name]
		if db == nil {
			db = &liveDB{Name: a.Name, Access: a.Access, Type: a.Type, Default: a.Default,
				ReqP: a.RequestedPrimaries, ReqS: a.RequestedSecondaries,
				CurP: a.CurrentPrimaries, CurS: a.CurrentSecondaries}
			b.dbs[a.Name] = db
			b.ndbs = append(b.ndbs, a.Name)
		}
		if a.CurrentStatus != "online" || (a.RequestedStatus != "" && a.RequestedStatus != "online") {
			where := a.ServerID
			if s, ok := b.n.Servers[a.ServerID]; ok {
				where = displayName(s, "")
			}
			db.NotOnline = append(db.NotOnline, allocation{Status: orUnknown(a.CurrentStatus), Message: a.StatusMessage, ServerID: a.ServerID, Where: orUnknown(where)})
		}
		if a.Role == "primary" {
			db.Primaries = append(db.Primaries, a.ServerID)
		}
	}
	sort.Strings(b.ndbs)

	// Map servers to Pods by advertised address. Dropped servers are gone;
	// when several rows claim one Pod, PodServer decides.
	b.byPod = map[string]map[int]state.Server{}
	exact := map[string][2]string{}
	if b.d.PodAddress != nil {
		for sts, live := range b.stsLive {
			hi := live
			for _, pl := range b.d.Pools {
				if pl.StatefulSet == sts && int(pl.Replicas) > hi {
					hi = int(pl.Replicas)
				}
			}
			for i := 0; i < hi+8; i++ {
				exact[normHost(b.d.PodAddress(sts, i))] = [2]string{sts, strconv.Itoa(i)}
			}
		}
		for _, pl := range b.d.Pools {
			if _, ok := b.stsLive[pl.StatefulSet]; !ok {
				for i := 0; i < int(pl.Replicas)+8; i++ {
					exact[normHost(b.d.PodAddress(pl.StatefulSet, i))] = [2]string{pl.StatefulSet, strconv.Itoa(i)}
				}
			}
		}
	}
	ids := make([]string, 0, len(b.n.Servers))
	for id := range b.n.Servers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	claims := map[string]map[int][]state.Server{}
	var loopback []state.Server // unmapped servers advertising a loopback address
	listed := 0                 // servers not dropped
	for _, id := range ids {
		s := b.n.Servers[id]
		if s.ID == "" {
			s.ID = id
		}
		if s.State == state.ServerDropped {
			continue
		}
		listed++
		host := normHost(s.Address)
		sts, ord, ok := "", 0, false
		if m, hit := exact[host]; hit {
			sts, ok = m[0], true
			ord, _ = strconv.Atoi(m[1])
		} else if b.d.PodAddress == nil {
			sts, ord, ok = b.parsePodHost(host)
		}
		if !ok && isLoopback(host) {
			loopback = append(loopback, s)
			continue
		}
		if !ok {
			if s.State == state.ServerEnabled || s.State == state.ServerFree {
				b.warn("neo4j:server/%s (%s) at %q is not a Pod of this cluster; neo4jctl leaves it alone.", s.ID, displayName(s, ""), s.Address)
			}
			continue
		}
		if claims[sts] == nil {
			claims[sts] = map[int][]state.Server{}
		}
		claims[sts][ord] = append(claims[sts][ord], s)
	}
	// A server advertising a loopback address names no Pod: a standalone
	// installed by the Helm chart advertises server.default_advertised_address,
	// localhost by default (Operations Manual 5.26,
	// configuration/configuration-settings.adoc § server.default_advertised_address;
	// the chart sets advertised addresses only when clustered,
	// templates/neo4j-config.yaml). When the cluster has exactly one server
	// Pod and SHOW SERVERS exactly one server, that server is the Pod's:
	// there is nothing else it could be. Any other loopback server is not
	// mapped, and is left alone like any server that is not this cluster's.
	if sts, ord, one := b.onlyPod(); one && listed == 1 && len(loopback) == 1 && len(claims) == 0 {
		s := loopback[0]
		claims[sts] = map[int][]state.Server{ord: {s}}
		b.warn("neo4j:server/%s (%s) advertises %q, which names no Pod; it is taken as the server of Pod %s-%d, the cluster's only server Pod and the only server in SHOW SERVERS.", s.ID, displayName(s, fmt.Sprintf("%s-%d", sts, ord)), s.Address, sts, ord)
	} else {
		for _, s := range loopback {
			if s.State == state.ServerEnabled || s.State == state.ServerFree {
				b.warn("neo4j:server/%s (%s) at %q is not a Pod of this cluster (a loopback address names no Pod); neo4jctl leaves it alone.", s.ID, displayName(s, ""), s.Address)
			}
		}
	}
	b.replaced = map[string]map[int][]state.Server{}
	for sts, pods := range claims {
		b.byPod[sts] = map[int]state.Server{}
		for ord, rows := range pods {
			cur, old := PodServer(rows)
			b.byPod[sts][ord] = cur
			if len(old) > 0 {
				if b.replaced[sts] == nil {
					b.replaced[sts] = map[int][]state.Server{}
				}
				b.replaced[sts][ord] = old
			}
		}
	}
}

// onlyPod reports the one server Pod slot of the cluster (StatefulSet and
// ordinal) when it has exactly one: the StatefulSets' live replicas, or
// the desired ones where larger, add up to one.
func (b *builder) onlyPod() (string, int, bool) {
	n := map[string]int{}
	for sts, live := range b.stsLive {
		n[sts] = live
	}
	for _, pl := range b.d.Pools {
		if int(pl.Replicas) > n[pl.StatefulSet] {
			n[pl.StatefulSet] = int(pl.Replicas)
		}
	}
	total, only := 0, ""
	for sts, r := range n {
		total += r
		if r > 0 {
			only = sts
		}
	}
	return only, 0, total == 1
}

// isLoopback reports whether host (normHost's) is a loopback address.
func isLoopback(host string) bool {
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// PodServer decides which of the SHOW SERVERS rows claiming one Pod's
// address is that Pod's server, and which are servers it replaced. It is
// the one decision plan and drift share. Several rows claim a Pod when its
// volume was replaced (the new volume starts a new, Free server while the
// old one stays listed, Unavailable) or when a Pod returned after its
// server was deallocated. The Pod's server is the one that answers
// (Available), then the one furthest along the lifecycle (Enabled or
// Cordoned before Free before Deallocating/Deallocated), then the lowest
// id; the others were replaced: plan deallocates and drops them, as the
// Operations Manual's disaster-recovery chapter does for a lost server.
// Dropped rows must not be passed: they are gone.
func PodServer(rows []state.Server) (current state.Server, replaced []state.Server) {
	best := -1
	for i, s := range rows {
		if best < 0 || podRank(s, rows[best]) {
			best = i
		}
	}
	if best < 0 {
		return state.Server{}, nil
	}
	for i, s := range rows {
		if i != best {
			replaced = append(replaced, s)
		}
	}
	sort.Slice(replaced, func(i, j int) bool { return replaced[i].ID < replaced[j].ID })
	return rows[best], replaced
}

// podRank reports whether a is a better claim to a Pod than b.
func podRank(a, b state.Server) bool {
	avail := func(s state.Server) bool { return s.Health == state.HealthAvailable }
	life := func(s state.Server) int {
		switch s.State {
		case state.ServerEnabled, state.ServerCordoned:
			return 2
		case state.ServerFree:
			return 1
		}
		return 0
	}
	if avail(a) != avail(b) {
		return avail(a)
	}
	if life(a) != life(b) {
		return life(a) > life(b)
	}
	return a.ID < b.ID
}

// parsePodHost reads "<sts>-<ordinal>" from the first DNS label.
func (b *builder) parsePodHost(host string) (string, int, bool) {
	label, _, _ := strings.Cut(host, ".")
	i := strings.LastIndex(label, "-")
	if i <= 0 {
		return "", 0, false
	}
	ord, err := strconv.Atoi(label[i+1:])
	if err != nil {
		return "", 0, false
	}
	sts := label[:i]
	if _, ok := b.stsLive[sts]; ok {
		return sts, ord, true
	}
	for _, pl := range b.d.Pools {
		if pl.StatefulSet == sts {
			return sts, ord, true
		}
	}
	return "", 0, false
}

func normHost(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if i := strings.LastIndex(addr, ":"); i >= 0 && !strings.Contains(addr[i+1:], "]") {
		if _, err := strconv.Atoi(addr[i+1:]); err == nil {
			addr = addr[:i]
		}
	}
	return strings.TrimSuffix(addr, ".")
}

// displayName is the server's friendly name unless it is still its UUID,
// then the Pod's name.
func displayName(s state.Server, pod string) string {
	if s.Name != "" && s.Name != s.ID {
		return s.Name
	}
	if pod != "" {
		return pod
	}
	return s.ID
}

func podName(sts string, ord int) string { return fmt.Sprintf("%s-%d", sts, ord) }

func (b *builder) podAddress(sts string, ord int) string {
	if b.d.PodAddress == nil {
		return ""
	}
	return b.d.PodAddress(sts, ord)
}

func serverAddress(id string) string { return "neo4j:server/" + id }

func stsAddress(ns, name string) string { return "k8s:apps/StatefulSet/" + ns + "/" + name }

// chain appends steps that run one after another.
type chain struct {
	b     *builder
	key   string
	seq   string
	last  *draft
	head  *draft   // the first step
	first []*draft // dependencies of the first step
}

func (c *chain) add(s Step) *draft {
	dr := &draft{Step: s, stage: stageServers, sortKey: c.key}
	dr.Sequence = c.seq
	if c.last != nil {
		dr.deps = []*draft{c.last}
	} else {
		dr.deps = append([]*draft(nil), c.first...)
		c.head = dr
	}
	c.b.add(dr)
	c.last = dr
	return dr
}

func (c *chain) addDraft(dr *draft) {
	dr.stage, dr.sortKey, dr.Sequence = stageServers, c.key, c.seq
	if c.last != nil {
		dr.deps = append(dr.deps, c.last)
	} else {
		dr.deps = append(dr.deps, c.first...)
		c.head = dr
	}
	c.b.add(dr)
	c.last = dr
}

// pool plans one StatefulSet and its servers in the safe sequences of
// NEO4J.md. It returns the last step (databases wait for it) and its
// rolling-update steps.
func (b *builder) pool(pl Pool, o *state.Object, sts *draft, config []*draft) (*draft, []*draft) {
	addr := stsAddress(b.d.Namespace, pl.StatefulSet)
	if o != nil {
		addr = o.Address
	}
	live, target := poolTarget(pl, o, sts)
	templateChanged := o != nil && o.Live != nil && hasDiff(sts, "spec.template")
	// --skip-neo4j plans no server step at all, not even for a new cluster
	// (there is nothing to observe yet, but apply has no Neo4j access).
	servers := b.enterprise && !b.opts.SkipNeo4j && (b.neoKnown || b.fresh)
	c := &chain{b: b, key: pl.StatefulSet, seq: "servers:" + pl.StatefulSet, first: config}

	var outgoing []int
	if b.enterprise && b.neoKnown {
		outgoing = b.outgoingOf(pl.StatefulSet, target)
	}

	scaleOutOK := true
	switch {
	case target > live && live > 0 && servers && !b.fresh:
		if rs := b.scaleOutRefusals(addr); len(rs) > 0 {
			b.p.Refusals = append(b.p.Refusals, rs...)
			sts = b.withholdReplicas(sts)
			scaleOutOK = false
		} else {
			b.returningClaims(c, pl.StatefulSet, live, target)
		}
	case target > live && live > 0 && b.enterprise && !b.fresh && hasDiff(sts, "spec.replicas"):
		// Neo4j not planned (--skip-neo4j): every new server is unknown.
		b.retainedVolumeWarnings(pl.StatefulSet, live, target, nil)
	case target < live || len(outgoing) > 0:
		if !b.enterprise {
			break
		}
		var refused bool
		if !b.neoKnown {
			reason := "scaling in needs the Neo4j plane, which was not observed"
			if !b.opts.SkipNeo4j {
				reason += " (" + orUnknown(b.n.Reason) + ")"
			}
			b.refuse(addr, reason, "make Neo4j reachable (--neo4j-uri) and plan again without --skip-neo4j")
			refused = true
		} else if rs, no := b.scaleInRefusals(addr, pl.StatefulSet, outgoing); no {
			b.p.Refusals = append(b.p.Refusals, rs...)
			refused = true
		}
		if refused {
			sts = b.withholdReplicas(sts)
			outgoing = nil
			target = live
		}
	}

	// Scale in: the outgoing servers of every pool leave together in the
	// one scale-in sequence (retireAll); replicas go down only after it.
	for _, ord := range outgoing {
		why := fmt.Sprintf("scale in %s %d → %d", pl.StatefulSet, live, target)
		if live <= target {
			// The replicas are already down (an earlier apply stopped after
			// lowering them, or someone scaled by hand): finish the sequence.
			why = fmt.Sprintf("finish scaling in %s to %d: %s is gone but its server remains", pl.StatefulSet, target, podName(pl.StatefulSet, ord))
		}
		b.retiring = append(b.retiring, retiree{sts: pl.StatefulSet, ord: ord, why: why})
	}
	if len(outgoing) > 0 {
		b.afterRetire = append(b.afterRetire, c)
	}
	b.growClaims(c, pl, o, min(live, target))
	if sts != nil {
		if hasDiff(sts, "spec.replicas") && target != live {
			r := int32(target)
			sts.Kind, sts.Replicas = KindScaleStatefulSet, &r
			dir := "out"
			if target < live {
				dir = "in"
			}
			sts.Reason = fmt.Sprintf("scale %s %d → %d", dir, live, target)
			if sts.Action == ActionUpdate {
				for _, f := range sts.FieldDiffs {
					if f.Manager != "" {
						sts.Reason += "; " + updateReason(sts.FieldDiffs)
						break
					}
				}
			}
		}
		c.addDraft(sts)
		b.tlsRenewal(c, sts, o)
	}
	var rollouts []*draft
	if first, hold, why := rollFrom(sts, o, templateChanged, min(live, target)); first >= 0 {
		why = tlsRollReason(sts, o, why)
		var pods []string
		for i := first; i >= 0; i-- {
			pods = append(pods, podName(pl.StatefulSet, i))
		}
		// The StatefulSet step holds every Pod (partition = hold) so the
		// controller replaces none by itself; the rolling-update step then
		// lowers the partition one Pod at a time.
		h := int32(hold)
		sts.Partition = &h
		gate := servers && b.neoKnown
		reason := why + "; one Pod at a time, highest ordinal first, each updated and Ready"
		if gate {
			reason += " with its server back (Enabled, Available, hosting its databases)"
		}
		reason += " before the next"
		rollouts = append(rollouts, b.rollSteps(c, Step{Address: addr, Action: ActionRead, Kind: KindRollingUpdate,
			Object: objectRef(*o), Reason: reason,
			Rollout: &Rollout{StatefulSet: pl.StatefulSet, Pods: pods, Servers: gate, PodAddresses: b.helmPodAddresses(pl.StatefulSet, pods)}})...)
	}

	if servers {
		opts := pl.Options
		for ord := 0; ord < target; ord++ {
			if ord >= live && !scaleOutOK {
				break
			}
			s, ok := b.byPod[pl.StatefulSet][ord]
			if !ok {
				why := fmt.Sprintf("scale out %d → %d: new server %s", live, target, podName(pl.StatefulSet, ord))
				if b.fresh {
					why = "new cluster: server " + podName(pl.StatefulSet, ord)
				} else if ord < live {
					why = "the server of " + podName(pl.StatefulSet, ord) + " has not joined the cluster"
				}
				b.join(c, pl.StatefulSet, ord, opts, why)
				continue
			}
			b.reconcileServer(c, addr, pl, ord, s)
		}
		if b.neoKnown {
			for _, ord := range sortedInts(b.replaced[pl.StatefulSet]) {
				if ord < target {
					b.removeReplaced(c, addr, pl.StatefulSet, ord)
				}
			}
			if o != nil && o.Live != nil {
				b.removeLeftovers(c, pl, live, target)
			}
		}
	}
	return c.last, rollouts
}

// removeLeftovers removes the Free servers of Pods that no longer exist and
// cannot come back (issue 11, item 5): a scale out and back by someone else
// leaves the new Pod's server Free (it was never enabled) after its Pod is
// gone. Only a server at an ordinal the StatefulSet's replicas do not cover
// (live and planned: above covers both) and whose Pod is not observed: a
// Pod that exists, or may still be starting, keeps its server.
//
// The Operations Manual lets a server leave only through Deallocated:
// DROP SERVER needs the server "in a deallocated state" (clustering/
// server-syntax, "Remove a server"), and the only way out of Free is ENABLE
// SERVER (clustering/servers, "Server lifecycle" figure; "Free state").
// So the server is enabled, deallocated (it hosts nothing but system:
// nothing moves) and dropped at once — the disaster-recovery guide drops a
// lost server that is still Deallocating (clustering/disaster-recovery,
// "Make servers available"). Each step is irreversible and confirmed.
//
// A Free server of a Pod this plan's scale in removes (ordinals target to
// live-1) goes the same way, after the scale step: otherwise the apply
// that scales in would leave it behind. A server whose Pod is still
// running when the steps run finishes deallocating normally; one whose
// Pod is gone is a lost server the wait accepts.
func (b *builder) removeLeftovers(c *chain, pl Pool, live, target int) {
	pods := map[string]bool{}
	for _, p := range b.k.Pods {
		pods[p.Name] = true
	}
	for _, ord := range sortedInts(b.byPod[pl.StatefulSet]) {
		s := b.byPod[pl.StatefulSet][ord]
		pod := podName(pl.StatefulSet, ord)
		gone := ord >= live && !pods[pod]         // no Pod, and none will start
		scaledAway := ord >= target && ord < live // this plan's scale in removes it
		if s.State != state.ServerFree || ord < target || !(gone || scaledAway) {
			continue
		}
		above := max(live, target)
		if scaledAway {
			above = target
		}
		a := serverAddress(s.ID)
		why := fmt.Sprintf("the server %s of %s is Free and its Pod is gone (%s has %d replicas): it can never serve", displayName(s, ""), pod, pl.StatefulSet, above)
		if scaledAway {
			why = fmt.Sprintf("the server %s of %s is Free and its Pod goes with the scale in to %d: it would be left behind", displayName(s, ""), pod, target)
		}
		srv := func(from, to string, o *ServerOptions) *ServerStep {
			return &ServerStep{ServerID: s.ID, StatefulSet: pl.StatefulSet, Ordinal: ord, Name: displayName(s, pod), FromState: from, ToState: to, Options: o}
		}
		opts := normOptions(pl.Options)
		// The ENABLE is marked irreversible with the rest: it only starts
		// the removal, and a watch in enforce mode that ran it and held the
		// DEALLOCATE would leave an Enabled server that is gone.
		c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindEnableServer, Irreversible: true,
			Reason: why + "; Neo4j drops only a Deallocated server, and a Free one gets there through ENABLE and DEALLOCATE (it hosts nothing, nothing moves)",
			Server: srv(state.ServerFree, state.ServerEnabled, &opts)})
		c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindDeallocate, Irreversible: true, Servers: []ServerStep{*srv(state.ServerEnabled, state.ServerDeallocating, nil)},
			Reason: why + ": no database is ever allocated to it"})
		c.add(Step{Address: a, Action: ActionRead, Kind: KindWaitDeallocated, Reason: "wait until it hosts only system (a server whose Pod is gone: until Neo4j asks it to host nothing)",
			Server: srv(state.ServerDeallocating, state.ServerDeallocated, nil)})
		c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindDropServer, Irreversible: true,
			Reason: why + ": remove it from the cluster", Server: srv(state.ServerDeallocated, state.ServerDropped, nil)})
	}
}

// removeReplaced removes the servers a Pod's new server replaced (its volume
// was replaced, so the old server is lost) along the Operations Manual's
// disaster-recovery path (clustering/disaster-recovery, "Make servers
// available"): after the new server is enabled, cordon the lost server,
// DEALLOCATE it (its allocations move to available servers), wait, DROP.
// What keeps the data safe is the other copies: a database that is not
// write-available without the lost server must be recreated first.
func (b *builder) removeReplaced(c *chain, addr, sts string, ord int) {
	pod := podName(sts, ord)
	for _, old := range b.replaced[sts][ord] {
		if bad := b.lostWithout(old.ID); len(bad) > 0 {
			b.refuse(addr, fmt.Sprintf("the server %s that %s replaced is lost, and database %s has no quorum of primaries on the available servers without it, so DEALLOCATE cannot move it", old.ID, pod, strings.Join(bad, ", ")),
				fmt.Sprintf("recreate %s from the remaining copies or a backup (CALL dbms.cluster.recreateDatabase, Operations Manual disaster-recovery \"Make databases write-available\"), then plan again", strings.Join(bad, ", ")))
			continue
		}
		a := serverAddress(old.ID)
		why := fmt.Sprintf("the volume of %s was replaced: its old server %s is %s and its data lives on in the other copies", pod, displayName(old, ""), orUnknown(old.Health))
		srv := func(from, to string) *ServerStep {
			return &ServerStep{ServerID: old.ID, StatefulSet: sts, Ordinal: ord, Name: displayName(old, pod), FromState: from, ToState: to}
		}
		switch old.State {
		case state.ServerEnabled:
			c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindCordon, Reason: why + ": no new databases are allocated to it",
				Server: srv(state.ServerEnabled, state.ServerCordoned)})
			fallthrough
		case state.ServerCordoned:
			ss := srv(state.ServerCordoned, state.ServerDeallocating)
			c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindDeallocate, Irreversible: true, Servers: []ServerStep{*ss},
				Reason: why + ": move its allocations to the available servers"})
			fallthrough
		case state.ServerDeallocating:
			c.add(Step{Address: a, Action: ActionRead, Kind: KindWaitDeallocated, Reason: "wait until it hosts only system",
				Server: srv(state.ServerDeallocating, state.ServerDeallocated)})
			fallthrough
		case state.ServerDeallocated:
			c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindDropServer, Irreversible: true,
				Reason: why + ": remove it from the cluster", Server: srv(state.ServerDeallocated, state.ServerDropped)})
		}
	}
}

// lostWithout lists the databases hosted on server id that have no quorum
// of their primaries on other Available servers (not write-available
// without it).
func (b *builder) lostWithout(id string) []string {
	var bad []string
	for _, name := range b.ndbs {
		if name == "system" {
			continue
		}
		db := b.dbs[name]
		hosted := false
		for _, p := range db.Primaries {
			hosted = hosted || p == id
		}
		if !hosted {
			continue
		}
		up := 0
		for _, p := range db.Primaries {
			if s, ok := b.n.Servers[p]; ok && p != id && s.Health == state.HealthAvailable {
				up++
			}
		}
		if up < len(db.Primaries)/2+1 {
			bad = append(bad, name)
		}
	}
	return bad
}

// retainedVolumeWarnings warns, for a scale out onto ordinals without a
// known server, that a PVC kept from an earlier scale in (whenScaled:
// Retain, the default) brings back the id of a server that was dropped, and
// a dropped server id can never rejoin. Without the claims observed (or
// without Neo4j to say which servers were dropped) the plan cannot tell;
// it says what to check. only, when not nil, limits the warning to those
// ordinals.
func (b *builder) retainedVolumeWarnings(sts string, live, target int, only map[int]bool) {
	if b.d.Cluster == nil {
		return
	}
	st := b.d.Cluster.Spec.Storage
	if st.Retention.WhenScaled != "" && st.Retention.WhenScaled != "Retain" {
		return
	}
	for ord := live; ord < target; ord++ {
		if _, known := b.byPod[sts][ord]; known {
			continue
		}
		if only != nil && !only[ord] {
			continue
		}
		pod := podName(sts, ord)
		// The claim names are <volumeClaimTemplate>-<pod>; manifests
		// renders "data" always and "logs" only with a logs size.
		pvcs := "PVC data-" + pod
		if st.Logs.Size != "" {
			pvcs = "PVCs data-" + pod + " and logs-" + pod
		}
		b.warn("if %s ran before and was dropped, its retained volume holds a dropped server id and it will not rejoin: delete %s first (storage retention whenScaled: Retain).", pod, pvcs)
	}
}

// join plans a server that does not exist yet: wait for its Free row, enable
// it, wait until it is Enabled and Available.
func (b *builder) join(c *chain, sts string, ord int, opts ServerOptions, why string) {
	pod := podName(sts, ord)
	pending := serverAddress(pod)
	srv := func(from, to string, o *ServerOptions) *ServerStep {
		return &ServerStep{PendingAddress: pending, PodAddress: b.podAddress(sts, ord), StatefulSet: sts, Ordinal: ord,
			Name: pod, FromState: from, ToState: to, Options: o}
	}
	full := normOptions(opts)
	c.add(Step{Address: pending, Action: ActionRead, Kind: KindWaitServerFree, Reason: why + ": wait for its Pod and its Free server",
		Server: srv("", state.ServerFree, nil)})
	c.add(Step{Address: pending, Action: ActionNeo4j, Kind: KindEnableServer, Reason: why,
		Server: srv(state.ServerFree, state.ServerEnabled, &full)})
	c.add(Step{Address: pending, Action: ActionRead, Kind: KindWaitServerEnabled, Reason: "wait until Enabled and Available",
		Server: srv(state.ServerEnabled, state.HealthAvailable, nil)})
	// RENAME SERVER needs the server Enabled (Operations Manual,
	// clustering/servers, "Renaming a server"); a name SHOW SERVERS shares
	// with the StatefulSet's Pod.
	c.add(Step{Address: pending, Action: ActionNeo4j, Kind: KindRenameServer, Reason: "name the server after its Pod",
		Server: srv(state.ServerEnabled, state.ServerEnabled, nil)})
	if !b.fresh {
		b.joined = append(b.joined, c)
	}
}

// reconcileServer plans an existing server of a Pod the cluster keeps.
func (b *builder) reconcileServer(c *chain, addr string, pl Pool, ord int, s state.Server) {
	pod := podName(pl.StatefulSet, ord)
	full := b.serverOptions(pl, s)
	srv := func(from, to string, o *ServerOptions) *ServerStep {
		return &ServerStep{ServerID: s.ID, PodAddress: b.podAddress(pl.StatefulSet, ord), StatefulSet: pl.StatefulSet, Ordinal: ord,
			Name: displayName(s, pod), FromState: from, ToState: to, Options: o}
	}
	a := serverAddress(s.ID)
	switch s.State {
	case state.ServerCordoned:
		// A cordon is a hold (Operations Manual, clustering/servers, "Error
		// handling": an operator cordons a server with a temporary problem
		// and enables it again once it is resolved). It is reported, never
		// undone by apply or watch enforce.
		b.warn("neo4j:server/%s (%s) is Cordoned: held — Neo4j allocates no new databases to it, and neo4jctl leaves it cordoned. Release it with ENABLE SERVER '%s' when its problem is resolved (also when an interrupted scale-in of neo4jctl cordoned it and the server now stays).",
			s.ID, displayName(s, pod), s.ID)
		if live := liveOptions(s); !equalOptions(live, full) {
			c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindAlterServer, Reason: "server options differ from the cluster file (the server stays cordoned)",
				Server: srv(state.ServerCordoned, state.ServerCordoned, &full), Before: live, After: full})
		}
	case state.ServerFree:
		why := "the server of " + pod + " is Free"
		c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindEnableServer, Reason: why, Server: srv(s.State, state.ServerEnabled, &full)})
		c.add(Step{Address: a, Action: ActionRead, Kind: KindWaitServerEnabled, Reason: "wait until Enabled and Available",
			Server: srv(state.ServerEnabled, state.HealthAvailable, nil)})
	case state.ServerEnabled:
		if live := liveOptions(s); !equalOptions(live, full) {
			reason := "server options differ from the cluster file"
			moved := b.movedByOptions(s, full)
			if len(moved) > 0 {
				reason += "; Neo4j moves " + strings.Join(moved, ", ") + " off this server to others that may host them (clustering/servers.adoc § Altering server options)"
			}
			c.add(Step{Address: a, Action: ActionNeo4j, Kind: KindAlterServer, Reason: reason,
				Server: srv(state.ServerEnabled, state.ServerEnabled, &full), Before: live, After: full})
			if len(moved) > 0 {
				c.add(Step{Address: a, Action: ActionRead, Kind: KindWaitDatabasesOnline,
					Reason: "wait until " + strings.Join(moved, ", ") + " are online on the servers they moved to"})
			}
		}
	case state.ServerDeallocating, state.ServerDeallocated:
		b.refuse(addr, fmt.Sprintf("the server of %s (%s) is %s and can never host databases again", pod, s.ID, s.State),
			fmt.Sprintf("DROP SERVER '%s' after it is Deallocated and wipe the Pod's volume (neo4j-admin server unbind) before %s is reused, or lower the server count", s.ID, pod))
	}
}

func (b *builder) scaleOutRefusals(addr string) []Refusal {
	const fix = "wait until every server is Enabled and Available and every database online (neo4jctl healthcheck), then plan again"
	var rs []Refusal
	for _, sts := range sortedKeys(b.byPod) {
		for _, ord := range sortedInts(b.byPod[sts]) {
			s := b.byPod[sts][ord]
			switch {
			case s.State == state.ServerEnabled && s.Health != state.HealthAvailable:
				rs = append(rs, Refusal{addr, fmt.Sprintf("cannot scale out: server %s (%s) is %s", displayName(s, podName(sts, ord)), s.ID, orUnknown(s.Health)), fix})
			case s.State == state.ServerDeallocating:
				rs = append(rs, Refusal{addr, fmt.Sprintf("cannot scale out: server %s (%s) is %s", displayName(s, podName(sts, ord)), s.ID, s.State), fix})
			}
		}
	}
	for _, name := range b.ndbs {
		db := b.dbs[name]
		if len(db.NotOnline) > 0 {
			rs = append(rs, Refusal{addr, fmt.Sprintf("cannot scale out: database %s is not online (%s)", name, describe(db.NotOnline)), fix})
		} else if db.ReqP != db.CurP || db.ReqS != db.CurS {
			rs = append(rs, Refusal{addr, fmt.Sprintf("cannot scale out: database %s is still moving (requested %d primaries %d secondaries, current %d and %d)", name, db.ReqP, db.ReqS, db.CurP, db.CurS), fix})
		}
	}
	return rs
}

func (b *builder) totalServers() int {
	t := 0
	for _, pl := range b.d.Pools {
		t += int(pl.Replicas)
	}
	return t
}

// scaleInRefusals returns the refusals of one pool's scale-in; refused is
// also true when a refusal of every scale-in (globalScaleInRefusals, added
// to the plan once) stops it.
func (b *builder) scaleInRefusals(addr, sts string, outgoing []int) (rs []Refusal, refused bool) {
	refused = len(b.globalScaleInRefusals(addr)) > 0
	total := b.totalServers()
	sp := int(b.d.SystemPrimaries)
	if sp == 0 {
		if sys := b.dbs["system"]; sys != nil {
			sp = min(len(sys.Primaries), 3)
		}
	}
	if total < sp {
		rs = append(rs, Refusal{addr, fmt.Sprintf("the cluster would keep %d servers, fewer than its %d system primaries", total, sp),
			fmt.Sprintf("keep at least %d servers", sp)})
	}
	if sys := b.systemPrimaryRefusals(addr); len(sys) > 0 {
		// One refusal for the plan, however many pools scale in; each
		// pool's scale-in is refused all the same.
		refused = true
		if !b.sysRefused {
			b.sysRefused = true
			rs = append(rs, sys...)
		}
	}
	out := map[string]state.Server{}
	pods := map[string]string{}
	for _, ord := range outgoing {
		s := b.byPod[sts][ord]
		out[s.ID] = s
		pods[s.ID] = podName(sts, ord)
		if lost(s) && !deallocating(s) {
			if bad := b.lostWithout(s.ID); len(bad) > 0 {
				rs = append(rs, Refusal{addr,
					fmt.Sprintf("cannot scale in: server %s (%s) is %s, and database %s has no quorum of primaries on the available servers without it, so DEALLOCATE cannot move it", displayName(s, pods[s.ID]), s.ID, orUnknown(s.Health), strings.Join(bad, ", ")),
					fmt.Sprintf("bring the server back, or recreate %s from the remaining copies or a backup (CALL dbms.cluster.recreateDatabase; Operations Manual, clustering/disaster-recovery, \"Make databases write-available\"), then plan again", strings.Join(bad, ", "))})
			}
		}
	}
	for _, name := range b.ndbs {
		db := b.dbs[name]
		if bad := b.blockingScaleIn(db, out); len(bad) > 0 {
			rs = append(rs, Refusal{addr, fmt.Sprintf("cannot scale in: database %s is not online (%s)", name, describe(bad)),
				fmt.Sprintf("bring %s online (neo4jctl healthcheck shows why), then plan again", name)})
			continue
		}
		if name == "system" {
			continue
		}
		if len(db.Primaries) == 1 {
			// A server already Deallocating was accepted by DEALLOCATE: no
			// DEALLOCATE is sent again, so there is nothing to refuse.
			if s, leaving := out[db.Primaries[0]]; leaving && !deallocating(s) {
				rs = append(rs, Refusal{addr,
					fmt.Sprintf("cannot scale in: server %s (%s) holds the only primary of database %s, so DEALLOCATE would be refused", displayName(s, pods[s.ID]), s.ID, name),
					fmt.Sprintf("ALTER DATABASE %s SET TOPOLOGY 2 PRIMARIES (spec.databases: %s topology.primaries: 2), apply, then scale in", name, name)})
				continue
			}
		}
		p, sec := db.ReqP, db.ReqS
		for _, want := range b.d.Databases {
			if want.Name == name && want.Primaries > 0 {
				p, sec = int64(want.Primaries), int64(want.Secondaries)
			}
		}
		if int(p+sec) > total {
			rs = append(rs, Refusal{addr,
				fmt.Sprintf("cannot scale in: database %s needs %d servers (%d primaries + %d secondaries), only %d would remain", name, p+sec, p, sec, total),
				fmt.Sprintf("lower its topology first (ALTER DATABASE %s SET TOPOLOGY …) or keep at least %d servers", name, p+sec)})
		}
	}
	return rs, refused || len(rs) > 0
}

// blockingScaleIn returns the allocations of db that are not online and
// must stop a scale-in. An interrupted scale-in leaves outgoing servers
// Deallocating or Deallocated: their allocations are leaving (deallocating,
// or unknown once the Pod is gone) and the copies DEALLOCATE is moving onto
// the remaining servers are still starting; neither blocks resuming the
// sequence, which waits until the moves are done.
//
// An outgoing server that is Unavailable is lost: its allocations cannot be
// online, and the disaster-recovery path removes it anyway (Operations
// Manual, clustering/disaster-recovery: cordon, DEALLOCATE — which moves
// what can move — and DROP); lostWithout refuses it when a database would
// have no quorum left.
func (b *builder) blockingScaleIn(db *liveDB, out map[string]state.Server) []allocation {
	gone := func(s state.Server) bool { return deallocating(s) || lost(s) }
	moving := false
	for _, a := range db.NotOnline {
		if s, ok := out[a.ServerID]; ok && gone(s) {
			moving = true
		}
	}
	var bad []allocation
	for _, a := range db.NotOnline {
		if s, ok := out[a.ServerID]; ok && gone(s) {
			continue
		}
		if _, leaving := out[a.ServerID]; moving && !leaving && movingStatuses[a.Status] {
			continue
		}
		bad = append(bad, a)
	}
	return bad
}

// lost: a server that does not answer (its volume or node is gone, or it
// is down).
func lost(s state.Server) bool { return s.Health != state.HealthAvailable }

func deallocating(s state.Server) bool {
	return s.State == state.ServerDeallocating || s.State == state.ServerDeallocated
}

// orphan plans the deletion of an object neo4jctl applied and no longer
// renders. PVCs and objects owned by others are never deleted here; a
// StatefulSet's servers are retired first.
func (b *builder) orphan(o state.Object) {
	if o.Kind == "PersistentVolumeClaim" || hasOwners(o.Live) {
		return
	}
	del := &draft{Step: Step{Address: o.Address, Action: ActionDelete, Kind: KindDelete, Object: objectRef(o),
		Reason: "no longer in the cluster file", Before: redact(o.Kind, nil, o.Live)}, stage: stageDeletes, sortKey: o.Address}
	if o.Kind == "ConfigMap" && b.configRevision(o.Name) {
		// An earlier revision of the restart settings: a Pod that has
		// not rolled yet still mounts it, and one that restarts needs
		// it, so it goes only after the rolling restarts.
		del.Reason = "an earlier configuration revision; deleted once no Pod mounts it (after the rolling restart)"
		del.deps = append(del.deps, b.rollouts...)
	}
	if o.Kind != "StatefulSet" {
		b.add(del)
		return
	}
	c := &chain{b: b, key: o.Name, seq: "servers:" + o.Name}
	if b.enterprise {
		var outgoing []int
		if b.neoKnown {
			outgoing = sortedInts(b.byPod[o.Name])
			sort.Sort(sort.Reverse(sort.IntSlice(outgoing)))
		}
		if !b.neoKnown {
			b.refuse(o.Address, "removing a server pool needs the Neo4j plane, which was not observed", "make Neo4j reachable and plan again without --skip-neo4j")
			return
		}
		if rs, no := b.scaleInRefusals(o.Address, o.Name, outgoing); no {
			b.p.Refusals = append(b.p.Refusals, rs...)
			return
		}
		for _, ord := range outgoing {
			if b.byPod[o.Name][ord].State != state.ServerFree {
				b.retiring = append(b.retiring, retiree{sts: o.Name, ord: ord, why: "remove pool " + o.Name})
			}
		}
		b.afterRetire = append(b.afterRetire, c)
	}
	c.addDraft(del)
}

func hasOwners(live map[string]any) bool {
	md, _ := live["metadata"].(map[string]any)
	refs, _ := md["ownerReferences"].([]any)
	return len(refs) > 0
}

// databases plans CREATE / ALTER DATABASE after the servers they need.
// Databases in Neo4j but not in the cluster file are never dropped.
func (b *builder) databases(after []*draft) {
	total := b.totalServers()
	if !b.enterprise {
		for _, want := range b.d.Databases {
			if want.Name != "neo4j" && want.Name != "system" {
				b.refuse("neo4j:database/"+want.Name, "Community Edition runs the neo4j database only; CREATE DATABASE is unsupported",
					"remove "+want.Name+" from spec.databases, or use spec.edition: enterprise")
			}
		}
		return
	}
	if b.opts.SkipNeo4j || (!b.neoKnown && !b.fresh) {
		return
	}
	want := map[string]bool{}
	dbs := append([]Database(nil), b.d.Databases...)
	sort.Slice(dbs, func(i, j int) bool { return dbs[i].Name < dbs[j].Name })
	for _, w := range dbs {
		want[w.Name] = true
		addr := "neo4j:database/" + w.Name
		seqKey := "database:" + w.Name
		var last *draft
		step := func(s Step) {
			s.Sequence = seqKey
			deps := after
			if last != nil {
				deps = []*draft{last}
			}
			last = b.add(&draft{Step: s, stage: stageDatabases, sortKey: w.Name, deps: deps})
		}
		if w.Absent {
			b.dropDatabase(w, b.dbs[w.Name], step)
			continue
		}
		topo := topology(int64(w.Primaries), int64(w.Secondaries))
		if int(w.Primaries+w.Secondaries) > total {
			b.refuse(addr, fmt.Sprintf("database %s needs %d servers (%s), the cluster file has %d", w.Name, w.Primaries+w.Secondaries, topo, total),
				"lower its topology or raise spec.servers")
			continue
		}
		live := b.dbs[w.Name]
		if live == nil {
			step(Step{Address: addr, Action: ActionCreate, Kind: KindCreateDatabase, Reason: "not in the cluster",
				Database: &DatabaseStep{Name: w.Name, Primaries: w.Primaries, Secondaries: w.Secondaries}, After: map[string]any{"topology": topo}})
			step(Step{Address: addr, Action: ActionRead, Kind: KindWaitDatabaseOnline, Reason: "wait until every allocation is online",
				Database: &DatabaseStep{Name: w.Name}})
			if normAccess(w.Access) == "read-only" {
				step(Step{Address: addr, Action: ActionUpdate, Kind: KindAlterAccess, Reason: "the cluster file makes it read-only",
					Database: &DatabaseStep{Name: w.Name, Access: "read-only"}, Before: "read-write", After: "read-only"})
			}
			continue
		}
		if w.Primaries > 0 && (int64(w.Primaries) != live.ReqP || int64(w.Secondaries) != live.ReqS) {
			if len(live.NotOnline) > 0 {
				b.refuse(addr, fmt.Sprintf("cannot change the topology of database %s while it is not online (%s): Neo4j cannot move or add allocations of a database that is offline, stopped, quarantined or failing", w.Name, describe(live.NotOnline)),
					fmt.Sprintf("bring %s online first (START DATABASE %s if it was stopped; a quarantined allocation needs dbms.quarantineDatabase(…, false) or a recreate; neo4jctl healthcheck shows why), then plan again", w.Name, w.Name))
			} else if live.ReqP > 1 && w.Primaries == 1 {
				b.refuse(addr, fmt.Sprintf("Neo4j refuses to reduce database %s from %d primaries to 1 (51N41)", w.Name, live.ReqP),
					fmt.Sprintf("keep at least 2 primaries, or recreate %s from a backup with TOPOLOGY 1 PRIMARY", w.Name))
			} else {
				step(Step{Address: addr, Action: ActionUpdate, Kind: KindAlterTopology, Reason: "topology differs from the cluster file",
					Database: &DatabaseStep{Name: w.Name, Primaries: w.Primaries, Secondaries: w.Secondaries},
					Before:   topology(live.ReqP, live.ReqS), After: topo,
					FieldDiffs: []FieldDiff{{Path: "topology", Before: topology(live.ReqP, live.ReqS), After: topo}}})
				step(Step{Address: addr, Action: ActionRead, Kind: KindWaitDatabaseOnline, Reason: "wait until the allocations match the topology",
					Database: &DatabaseStep{Name: w.Name}})
			}
		}
		if w.Access != "" && normAccess(w.Access) != normAccess(live.Access) {
			step(Step{Address: addr, Action: ActionUpdate, Kind: KindAlterAccess, Reason: "access differs from the cluster file",
				Database: &DatabaseStep{Name: w.Name, Access: normAccess(w.Access)}, Before: normAccess(live.Access), After: normAccess(w.Access),
				FieldDiffs: []FieldDiff{{Path: "access", Before: normAccess(live.Access), After: normAccess(w.Access)}}})
		}
	}
	for _, name := range b.ndbs {
		db := b.dbs[name]
		if want[name] || name == "system" || db.Default || db.Type == "composite" || db.Type == "system" {
			continue
		}
		b.warn("neo4j:database/%s exists but is not in the cluster file: it is unmanaged (neo4jctl leaves it as it is and never drops a database); add it to spec.databases to manage it.", name)
	}
}

func topology(p, s int64) string {
	if p == 0 {
		return "default topology"
	}
	return fmt.Sprintf("%d %s, %d %s", p, plural(p, "primary", "primaries"), s, plural(s, "secondary", "secondaries"))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func normAccess(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	a = strings.ReplaceAll(strings.ReplaceAll(a, " ", "-"), "_", "-")
	return a
}

func normOptions(o ServerOptions) ServerOptions {
	out := ServerOptions{ModeConstraint: strings.ToUpper(o.ModeConstraint), Tags: sorted(o.Tags),
		AllowedDatabases: sorted(o.AllowedDatabases), DeniedDatabases: sorted(o.DeniedDatabases)}
	if out.ModeConstraint == "" {
		out.ModeConstraint = "NONE"
	}
	for _, l := range []*[]string{&out.Tags, &out.AllowedDatabases, &out.DeniedDatabases} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return out
}

func liveOptions(s state.Server) ServerOptions {
	return normOptions(ServerOptions{ModeConstraint: s.ModeConstraint, Tags: s.Tags,
		AllowedDatabases: s.AllowedDatabases, DeniedDatabases: s.DeniedDatabases})
}

func equalOptions(a, b ServerOptions) bool {
	eq := func(x, y []string) bool { return strings.Join(x, "\x00") == strings.Join(y, "\x00") }
	return a.ModeConstraint == b.ModeConstraint && eq(a.Tags, b.Tags) && eq(a.AllowedDatabases, b.AllowedDatabases) && eq(a.DeniedDatabases, b.DeniedDatabases)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// partitionPath is the StatefulSet field neo4jctl holds during a rolling
// update; the rendered object never sets it.
const partitionPath = "spec.updateStrategy.rollingUpdate.partition"

// rollFrom decides whether the StatefulSet step sts (over the live object
// o, with pods Pods kept) starts or resumes a gated rolling update. It
// returns the highest ordinal to roll (-1: none), the partition the
// StatefulSet step holds while the rolling-update step runs, and why.
//
// A changed template rolls every kept Pod. An unchanged template with a
// partition still set in the cluster is a rolling update an earlier apply
// left half done (interrupted, or stopped by a server that did not come
// back): it resumes at the partition's Pod — which may have been in flight
// — and holds the partition where it is, because raising it would send
// already updated Pods back.
func rollFrom(sts *draft, o *state.Object, templateChanged bool, pods int) (first, hold int, why string) {
	if sts == nil || o == nil || o.Live == nil || pods <= 0 {
		return -1, 0, ""
	}
	if templateChanged {
		return pods - 1, pods, "the Pod template changed"
	}
	p := livePartition(o.Live)
	if p <= 0 || !diffCovers(sts, partitionPath) {
		return -1, 0, ""
	}
	first = min(p, pods-1)
	return first, min(p, pods), fmt.Sprintf("finish the rolling update an earlier apply left at partition %d", p)
}

// livePartition reads spec.updateStrategy.rollingUpdate.partition (0 when
// unset).
func livePartition(live map[string]any) int {
	spec, _ := live["spec"].(map[string]any)
	us, _ := spec["updateStrategy"].(map[string]any)
	ru, _ := us["rollingUpdate"].(map[string]any)
	if f, ok := toFloat(ru["partition"]); ok {
		return int(f)
	}
	return 0
}

// diffCovers reports whether a field diff of dr is field or contains it
// (a whole map that changed, such as spec.updateStrategy).
func diffCovers(dr *draft, field string) bool {
	for _, f := range dr.FieldDiffs {
		if pathWithin(f.Path, field) || strings.HasPrefix(field, f.Path+".") {
			return true
		}
	}
	return false
}

// withholdReplicas takes spec.replicas out of a StatefulSet's change that
// a refusal holds back, and records it in Plan.Withheld: apply does not
// make it, but it is still a difference (drift must not call the cluster in
// sync while someone else's replicas stand).
func (b *builder) withholdReplicas(dr *draft) *draft {
	if dr == nil {
		return nil
	}
	var held []FieldDiff
	for _, f := range dr.FieldDiffs {
		if pathWithin(f.Path, "spec.replicas") {
			held = append(held, f)
		}
	}
	if len(held) > 0 {
		b.p.Withheld = append(b.p.Withheld, Withheld{Address: dr.Address, Object: dr.Object, FieldDiffs: held})
	}
	return dropReplicas(dr)
}
