package suites

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
)

// TestScaleOutAndIn plans and applies 3 → 5 → 3 servers with the built
// binary. The plan must list the documented safe sequences in order
// (NEO4J.md); apply must leave five Pods Ready and five servers Enabled,
// and on the way back retire each server — DEALLOCATE, wait, DROP — before
// the StatefulSet shrinks, as the simulator's statement log and the API
// server's audit log show independently of neo4jctl's own output. A scale
// in that would remove a database's only primary is refused, naming the
// fix, with nothing written.
func TestScaleOutAndIn(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()

	// Scale out: replicas up, then per new server (lowest ordinal first)
	// wait Free → ENABLE → wait Enabled/Available.
	c.setServers(5)
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan 3 → 5: want exit 2\n%s", res)
	}
	got := stepSummary(p.Steps, "scale-statefulset", "wait-server-free", "enable-server", "wait-server-enabled")
	want := []string{
		"scale-statefulset(5)",
		"wait-server-free(3)", "enable-server(3)", "wait-server-enabled(3)",
		"wait-server-free(4)", "enable-server(4)", "wait-server-enabled(4)",
	}
	if !equalStrings(got, want) {
		t.Errorf("scale-out steps:\n got %v\nwant %v", got, want)
	}

	c.sim.ResetLog()
	res = c.apply()
	if res.code != 0 {
		t.Fatalf("apply 3 → 5:\n%s", res)
	}
	// The statement log: the new servers enabled, then renamed, then one
	// DRYRUN REALLOCATE after the last of them (and REALLOCATE when it
	// moves anything).
	var seq []string
	for _, st := range c.sim.Log() {
		switch st.Command {
		case "ENABLE SERVER", "RENAME SERVER", "DRYRUN REALLOCATE DATABASES", "REALLOCATE DATABASES":
			if st.OK() {
				seq = append(seq, st.Command)
			}
		}
	}
	if len(seq) < 5 || !equalStrings(seq[:5], []string{"ENABLE SERVER", "RENAME SERVER", "ENABLE SERVER", "RENAME SERVER", "DRYRUN REALLOCATE DATABASES"}) {
		t.Errorf("scale-out statements: got %v, want ENABLE, RENAME per new server, then DRYRUN REALLOCATE", seq)
	}
	t.Logf("scale-out statements: %v", seq)
	if n := c.readyPods(); n != 5 {
		t.Errorf("after scale out: %d Pods Ready, want 5", n)
	}
	if st := c.serverStates(); st[neo4jsim.StateEnabled] != 5 || len(st) != 1 {
		t.Errorf("after scale out: servers %v, want 5 Enabled", st)
	}
	// SHOW SERVERS reads like the StatefulSet (RENAME SERVER), and the
	// scale-out ended with the rebalance of the manual's "Hosting
	// databases on added servers".
	for i := 0; i < 5; i++ {
		pod := fmt.Sprintf("%s-%d", c.name, i)
		if s, ok := c.serverOf(pod); !ok || s.Name != pod {
			t.Errorf("server of %s: got name %q, want the Pod's name", pod, s.Name)
		}
	}
	if got := stepSummary(p.Steps, "reallocate", "wait-databases-online"); !equalStrings(got, []string{"reallocate(?)", "wait-databases-online(?)"}) {
		t.Errorf("scale-out: got balance steps %v, want REALLOCATE and its wait after the new servers", got)
	}
	c.requireEmptyPlan()

	// Scale in (Operations Manual, clustering/servers, "Removing a server
	// from the cluster"; NEO4J.md for 5.26): CORDON the outgoing servers,
	// one DEALLOCATE naming both (its DRYRUN answered at plan time), then
	// per server wait → DROP, and only then replicas down.
	leaving := map[string]string{} // serverId → Pod
	for _, pod := range []string{c.name + "-4", c.name + "-3"} {
		s, ok := c.serverOf(pod)
		if !ok {
			t.Fatalf("no server for %s", pod)
		}
		leaving[s.ID] = pod
	}
	c.setServers(3)
	p, res = c.plan()
	if res.code != 2 {
		t.Fatalf("plan 5 → 3: want exit 2\n%s", res)
	}
	// Each outgoing server is cordoned first unless that would cordon a
	// quorum of a database's primaries (Neo4j then refuses DEALLOCATE); the
	// REALLOCATE of the scale-out may well have put primaries there.
	cordoned := map[int]bool{}
	var dealloc planStep
	for _, s := range p.Steps {
		switch s.Kind {
		case "cordon":
			cordoned[s.Server.Ordinal] = true
		case "deallocate":
			dealloc = s
		}
	}
	for _, ord := range []int{4, 3} {
		if !cordoned[ord] && !strings.Contains(dealloc.Reason, fmt.Sprintf("%s-%d", c.name, ord)) {
			t.Errorf("%s-%d is neither cordoned first nor named in the deallocate reason %q", c.name, ord, dealloc.Reason)
		}
	}
	if len(cordoned) == 0 {
		t.Errorf("no outgoing server cordoned: the first can always be, unless it alone holds a quorum")
	}
	got = stepSummary(p.Steps, "deallocate", "wait-deallocated", "drop-server", "scale-statefulset")
	want = []string{
		"deallocate(4,3)",
		"wait-deallocated(4)", "drop-server(4)",
		"wait-deallocated(3)", "drop-server(3)",
		"scale-statefulset(3)",
	}
	if !equalStrings(got, want) {
		t.Errorf("scale-in steps:\n got %v\nwant %v", got, want)
	}
	for _, s := range p.Steps {
		if s.Kind != "deallocate" {
			continue
		}
		if s.DryRun == nil || !strings.HasPrefix(s.DryRun.Statement, "DRYRUN DEALLOCATE DATABASES FROM SERVERS ") {
			t.Errorf("deallocate step %s: got dry run %+v, want Neo4j's answer to the DRYRUN naming both servers", s.ID, s.DryRun)
			continue
		}
		for id, pod := range leaving {
			if !strings.Contains(s.DryRun.Statement, id) {
				t.Errorf("the plan's DRYRUN %q does not name %s (%s)", s.DryRun.Statement, id, pod)
			}
		}
	}
	for _, s := range p.Steps {
		if (s.Kind == "deallocate" || s.Kind == "drop-server") && !s.Irreversible {
			t.Errorf("step %s %s is not marked irreversible", s.ID, s.Kind)
		}
	}

	mark := auditMark(t, env)
	c.sim.ResetLog()
	res = c.apply()
	if res.code != 0 {
		t.Fatalf("apply 5 → 3:\n%s", res)
	}
	// The statement log: per leaving server CORDON, the one DEALLOCATE
	// naming both, then DROP.
	type times struct{ cordon, dealloc, drop time.Time }
	seen := map[string]*times{}
	deallocs := 0
	for _, st := range c.sim.Log() {
		if !st.OK() {
			continue
		}
		if st.Command == "DEALLOCATE DATABASES" {
			deallocs++
		}
		for id := range leaving {
			if !strings.Contains(st.Query, id) && !paramsMention(st.Params, id) {
				continue
			}
			if seen[id] == nil {
				seen[id] = &times{}
			}
			switch {
			case strings.HasPrefix(st.Command, "CALL") && strings.Contains(strings.ToLower(st.Command), "cordonserver"):
				seen[id].cordon = st.Time
			case st.Command == "DEALLOCATE DATABASES":
				if seen[id].cordon.IsZero() && cordoned[ordinalOf(leaving[id])] {
					t.Errorf("DEALLOCATE of %s (%s) before its CORDON", id, leaving[id])
				}
				seen[id].dealloc = st.Time
			case st.Command == "DROP SERVER":
				if seen[id].dealloc.IsZero() {
					t.Errorf("DROP SERVER %s (%s) before its DEALLOCATE", id, leaving[id])
				}
				seen[id].drop = st.Time
			}
		}
	}
	if deallocs != 1 {
		t.Errorf("got %d DEALLOCATE statements, want one naming every outgoing server", deallocs)
	}
	// The audit log: when neo4jctl wrote the StatefulSet.
	var stsWrites []time.Time
	for _, ev := range neo4jctlRequests(t, env, mark, c.ns) {
		if isWrite(ev) && !isDryRun(ev) && ev.ObjectRef != nil && ev.ObjectRef.Resource == "statefulsets" && ev.ObjectRef.Name == c.name {
			stsWrites = append(stsWrites, ev.StageTimestamp)
		}
	}
	if len(stsWrites) == 0 {
		t.Fatalf("the audit log shows no write of StatefulSet %s by neo4jctl during the scale in", c.name)
	}
	for id, pod := range leaving {
		tm := seen[id]
		if tm == nil || tm.dealloc.IsZero() || tm.drop.IsZero() {
			t.Errorf("server %s (%s): statement log lacks DEALLOCATE and/or DROP SERVER: %+v", id, pod, c.sim.Log())
			continue
		}
		// ResponseComplete of the first StatefulSet write: the write was
		// answered at that instant, so it was sent before. Both statements
		// must precede it.
		if !tm.drop.Before(stsWrites[0]) {
			t.Errorf("server %s (%s): DROP SERVER at %s is not before the StatefulSet write at %s", id, pod, tm.drop.Format(time.RFC3339Nano), stsWrites[0].Format(time.RFC3339Nano))
		}
	}
	c.waitPods(3)
	c.requireEmptyPlan()

	// Scale out again (whenScaled: Retain, the default): the claims of
	// the dropped servers are still there and hold their identities. The
	// plan deletes each before the replicas go up — irreversible, shown —
	// and the Pods return as new servers.
	c.setServers(5)
	p, res = c.plan()
	if res.code != 2 {
		t.Fatalf("plan 3 → 5 again: want exit 2\n%s", res)
	}
	var claimDeletes []string
	for _, s := range p.Steps {
		if s.Kind == "scale-statefulset" {
			break
		}
		if s.Kind == "delete-claim" {
			if !s.Irreversible || s.Object == nil {
				t.Errorf("claim deletion %s: irreversible %v, object %+v", s.Address, s.Irreversible, s.Object)
				continue
			}
			claimDeletes = append(claimDeletes, s.Object.Name)
		}
	}
	if want := []string{"data-" + c.name + "-3", "data-" + c.name + "-4"}; !equalStrings(claimDeletes, want) {
		t.Errorf("claims deleted before the replicas go up: got %v, want %v", claimDeletes, want)
	}
	human := c.neo4jctl("plan", "-f", c.file)
	if !strings.Contains(human.stdout, "PersistentVolumeClaim") || !strings.Contains(human.stdout, "Irreversible") {
		t.Errorf("the human plan does not show the claim deletions as irreversible:\n%s", human)
	}
	c.sim.ResetLog()
	res = c.apply()
	if res.code != 0 {
		t.Fatalf("apply 3 → 5 again:\n%s", res)
	}
	seq = nil
	for _, st := range c.sim.Log() {
		switch st.Command {
		case "ENABLE SERVER", "RENAME SERVER", "DRYRUN REALLOCATE DATABASES":
			if st.OK() {
				seq = append(seq, st.Command)
			}
		}
	}
	if len(seq) < 5 || !equalStrings(seq[:5], []string{"ENABLE SERVER", "RENAME SERVER", "ENABLE SERVER", "RENAME SERVER", "DRYRUN REALLOCATE DATABASES"}) {
		t.Errorf("second scale-out statements: got %v, want ENABLE, RENAME per new server, then DRYRUN REALLOCATE", seq)
	}
	for i := 3; i < 5; i++ {
		pod := fmt.Sprintf("%s-%d", c.name, i)
		s, ok := c.serverOf(pod)
		if !ok || s.State != neo4jsim.StateEnabled {
			t.Errorf("%s: got server %+v, want a new Enabled server", pod, s)
		}
		if _, old := leaving[s.ID]; old {
			t.Errorf("%s came back as dropped server %s", pod, s.ID)
		}
	}
	c.requireEmptyPlan()
}

// TestScaleInRefusedForSolePrimary: a scale in that would remove the only
// primary of a database is refused before anything is written — in plan
// and in apply — and the refusal names the fix. It starts its own cluster
// at five servers: scaling a cluster back out onto the retained volumes of
// dropped servers is a separate problem (see the report).
func TestScaleInRefusedForSolePrimary(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{mutate: func(doc map[string]any) {
		setPath(doc, 5, "spec", "servers")
		dbs := getPath(doc, "spec", "databases").([]any)
		setPath(doc, append(dbs, map[string]any{"name": "solo", "topology": map[string]any{"primaries": 1}}), "spec", "databases")
	}})
	c.converge()
	// Where a one-primary database lands is the allocator's choice (as in
	// Neo4j); the test needs it on a server the scale in removes, so it
	// places solo there the way an operator could: re-created while the
	// other servers deny it, their options then restored.
	if pod := c.soloPrimaryPod(); pod != c.name+"-3" && pod != c.name+"-4" {
		c.placeDatabaseOn("solo", c.name+"-3", c.name+"-4")
	}
	if pod := c.soloPrimaryPod(); pod != c.name+"-3" && pod != c.name+"-4" {
		t.Fatalf("solo's primary is on %q, want %s-3 or %s-4", pod, c.name, c.name)
	}
	c.setServers(3)
	p, res := c.plan()
	if res.code != 1 {
		t.Errorf("plan of a scale in removing solo's only primary: want exit 1\n%s", res)
	}
	refused := false
	for _, r := range p.Refusals {
		if strings.Contains(r.Reason, "solo") && strings.Contains(r.Fix, "2 PRIMARIES") {
			refused = true
		}
	}
	if !refused {
		t.Errorf("no refusal naming database solo and the fix (TOPOLOGY 2 PRIMARIES): %+v", p.Refusals)
	}
	rv := c.resourceVersion()
	mark := auditMark(t, env)
	c.sim.ResetLog()
	res = c.apply()
	if res.code != 1 {
		t.Errorf("apply of a refused scale in: want exit 1\n%s", res)
	}
	if !strings.Contains(res.stdout+res.stderr, "2 PRIMARIES") {
		t.Errorf("apply does not name the fix:\n%s", res)
	}
	for _, ev := range neo4jctlRequests(t, env, mark, c.ns) {
		if isWrite(ev) && !isDryRun(ev) && resourceOf(ev) != "leases" && resourceOf(ev) != "pods/portforward" {
			t.Errorf("refused apply wrote: %s %s", ev.Verb, ev.RequestURI)
		}
	}
	// Only the plan's read-only DRYRUN reached Neo4j, and Neo4j refused
	// it as well.
	for _, st := range c.sim.Log() {
		if st.Command != "DRYRUN DEALLOCATE DATABASES" {
			t.Errorf("refused apply sent %s to Neo4j: %+v", st.Command, st)
		}
	}
	if now := c.resourceVersion(); now != rv {
		t.Errorf("StatefulSet resourceVersion moved from %s to %s during a refused apply", rv, now)
	}
}

// stepSummary lists the steps of the given kinds as kind(ordinal), or
// kind(replicas) for a scale step, in plan order.
func stepSummary(steps []planStep, kinds ...string) []string {
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	var out []string
	for _, s := range steps {
		if !want[s.Kind] {
			continue
		}
		switch {
		case s.Kind == "scale-statefulset" && s.Replicas != nil:
			out = append(out, fmt.Sprintf("%s(%d)", s.Kind, *s.Replicas))
		case s.Server != nil:
			out = append(out, fmt.Sprintf("%s(%d)", s.Kind, s.Server.Ordinal))
		case len(s.Servers) > 0:
			ords := make([]string, len(s.Servers))
			for i, ss := range s.Servers {
				ords[i] = fmt.Sprint(ss.Ordinal)
			}
			out = append(out, fmt.Sprintf("%s(%s)", s.Kind, strings.Join(ords, ",")))
		default:
			out = append(out, s.Kind+"(?)")
		}
	}
	return out
}

func ordinalOf(pod string) int {
	n, _ := strconv.Atoi(pod[strings.LastIndex(pod, "-")+1:])
	return n
}

func paramsMention(params map[string]any, s string) bool {
	for _, v := range params {
		if fmt.Sprint(v) == s || strings.Contains(fmt.Sprint(v), s) {
			return true
		}
	}
	return false
}

// resourceVersion of the cluster's StatefulSet.
func (c *cluster) resourceVersion() string {
	c.t.Helper()
	cs, err := c.env.Clientset()
	if err != nil {
		c.t.Fatal(err)
	}
	sts, err := cs.AppsV1().StatefulSets(c.ns).Get(context.Background(), c.name, metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	return sts.ResourceVersion
}

// waitPods waits until exactly n Pods of the cluster are Ready (Pods of a
// shrunk StatefulSet take a moment to go).
func (c *cluster) waitPods(n int) {
	c.t.Helper()
	for range 300 {
		if c.readyPods() == n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Errorf("%d Pods Ready, want %d", c.readyPods(), n)
}

// soloPrimaryPod is the Pod whose server hosts the primary of database solo.
func (c *cluster) soloPrimaryPod() string {
	var on string
	for id, role := range c.sim.Allocations("solo") {
		if role == "primary" {
			on = id
		}
	}
	for _, s := range c.sim.Servers() {
		if s.ID == on {
			return strings.SplitN(s.Advertised, ".", 2)[0]
		}
	}
	return ""
}

// placeDatabaseOn re-creates a one-primary database so that it lands on
// one of the given Pods' servers, straight through the simulator's Bolt
// listeners (the adapter, not neo4jctl): the other servers deny it while it
// is created, then get their options back.
func (c *cluster) placeDatabaseOn(name string, pods ...string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := neo4j.Open(ctx, neo4j.Config{URI: c.sim.URI("neo4j"), Username: "neo4j", Password: c.password,
		Resolver: neo4j.MapResolver(c.sim.AddressMap())})
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close(ctx)
	if err := cl.DropDatabase(ctx, name, neo4j.DropDatabase{IfExists: true}); err != nil {
		c.t.Fatal(err)
	}
	var others []string
	for _, s := range c.sim.Servers() {
		pod := strings.SplitN(s.Advertised, ".", 2)[0]
		if !slices.Contains(pods, pod) {
			others = append(others, s.ID)
		}
	}
	for _, id := range others {
		if err := cl.AlterServerOptions(ctx, id, neo4j.ServerOptions{ModeConstraint: neo4j.ModeNone, DeniedDatabases: []string{name}}); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := cl.CreateDatabase(ctx, name, neo4j.CreateDatabase{Topology: neo4j.Topology{Primaries: 1}, Wait: neo4j.Wait{Mode: neo4j.WaitDefault}}); err != nil {
		c.t.Fatal(err)
	}
	for _, id := range others {
		if err := cl.AlterServerOptions(ctx, id, neo4j.ServerOptions{ModeConstraint: neo4j.ModeNone}); err != nil {
			c.t.Fatal(err)
		}
	}
}

// TestNoPodToAskIsUnknown: with the StatefulSet deleted there is no server
// to ask; the plan reports the Neo4j plane unknown and plans no CREATE
// DATABASE for databases that live on the volumes left behind.
func TestNoPodToAskIsUnknown(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	if res := c.kubectl(nil, "delete", "statefulset", c.name, "--wait=true"); res.code != 0 {
		t.Fatalf("kubectl delete statefulset:\n%s", res)
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.readyPods() > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	p, res := c.plan()
	if res.code != 1 {
		t.Errorf("plan with no server to ask: want exit 1 (incomplete)\n%s", res)
	}
	if !p.Incomplete || !strings.Contains(res.stdout+res.stderr, "no server to ask") {
		t.Errorf("plan does not report the Neo4j plane unknown for want of a server to ask:\n%s", res)
	}
	for _, s := range p.Steps {
		if strings.HasPrefix(s.Kind, "create-database") || strings.HasPrefix(s.Address, "neo4j:") {
			t.Errorf("plan has Neo4j step %s %s while the plane is unknown", s.Kind, s.Address)
		}
	}
}

// TestScaleInLostServer removes a lost server through the built binary:
// the server of Pod -4 is Unavailable in SHOW SERVERS while its Pod stays
// Ready (its process hangs; Kubernetes sees nothing wrong). The scale in
// follows the disaster-recovery path of the Operations Manual
// (clustering/disaster-recovery, "Guide to disaster recovery": cordon,
// deallocate, drop — the drop while it is still Deallocating, as a lost
// server never reports Deallocated), and the plan says what the data then
// rests on: the copies on the remaining servers.
func TestScaleInLostServer(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{mutate: func(doc map[string]any) { setPath(doc, 5, "spec", "servers") }})
	c.converge()
	lostPod := c.name + "-4"
	lost, ok := c.serverOf(lostPod)
	if !ok {
		t.Fatalf("no server for %s", lostPod)
	}
	if err := c.sim.SetAvailable(lost.ID, false); err != nil {
		t.Fatal(err)
	}
	if n := c.readyPods(); n != 5 {
		t.Fatalf("%d Pods Ready, want 5: the lost server's Pod stays Ready", n)
	}
	c.setServers(3)
	p, res := c.plan()
	if res.code != 2 {
		t.Fatalf("plan 5 → 3 with %s lost: want exit 2\n%s", lostPod, res)
	}
	var dealloc *planStep
	for i, s := range p.Steps {
		if s.Kind == "deallocate" {
			dealloc = &p.Steps[i]
		}
	}
	if dealloc == nil {
		t.Fatalf("no DEALLOCATE planned:\n%s", res)
	}
	if !strings.Contains(dealloc.Reason, "lost") || !strings.Contains(dealloc.Reason, "remaining servers, which are then the only copies") {
		t.Errorf("the DEALLOCATE step does not say what data safety rests on: %q", dealloc.Reason)
	}
	human := c.neo4jctl("plan", "-f", c.file)
	if !strings.Contains(human.stdout, "which are then the only copies") {
		t.Errorf("the human plan does not say what data safety rests on:\n%s", human)
	}

	c.sim.ResetLog()
	res = c.apply()
	if res.code != 0 {
		t.Fatalf("apply 5 → 3 with %s lost:\n%s", lostPod, res)
	}
	var seq []string
	for _, st := range c.sim.Log() {
		if !st.OK() || !(strings.Contains(st.Query, lost.ID) || paramsMention(st.Params, lost.ID)) {
			continue
		}
		switch {
		case strings.Contains(strings.ToLower(st.Command), "cordonserver"):
			seq = append(seq, "CORDON")
		case st.Command == "DEALLOCATE DATABASES", st.Command == "DROP SERVER":
			seq = append(seq, st.Command)
		}
	}
	t.Logf("statements naming the lost server: %v", seq)
	if len(seq) < 2 || seq[len(seq)-2] != "DEALLOCATE DATABASES" || seq[len(seq)-1] != "DROP SERVER" {
		t.Errorf("statements naming the lost server %s: got %v, want (CORDON,) DEALLOCATE, DROP SERVER", lost.ID, seq)
	}
	for _, s := range c.sim.Servers() {
		if s.ID == lost.ID && s.State != neo4jsim.StateDropped {
			t.Errorf("the lost server is %s after apply, want Dropped", s.State)
		}
	}
	c.waitPods(3)
	c.requireEmptyPlan()
}

// TestUpgradeVerifiesVersions: after an upgrade apply (a 5.26 patch bump)
// every server reports the new version — the simulator runs the version
// of its Pod's image, read at each (re)start — and the verifying plan is
// empty. An upgrade that did not happen is visible: an image that does not
// run spec.version rolls the Pods, the servers come back on the old
// version, and apply's verification fails naming them.
func TestUpgradeVerifiesVersions(t *testing.T) {
	t.Parallel()
	requireE2E(t)
	env := testenv.Shared(t)
	c := newCluster(t, env, clusterOpts{})
	c.converge()
	if vs := c.serverVersions(); len(vs) != 1 || vs["5.26.0"] != 3 {
		t.Fatalf("before the upgrade: servers report %v, want 3 × 5.26.0", vs)
	}

	c.edit(func(doc map[string]any) { setPath(doc, "5.26.1", "spec", "version") })
	if res := c.apply(); res.code != 0 {
		t.Fatalf("apply 5.26.0 → 5.26.1:\n%s", res)
	}
	if vs := c.serverVersions(); len(vs) != 1 || vs["5.26.1"] != 3 {
		t.Errorf("after the upgrade: servers report %v, want 3 × 5.26.1", vs)
	}
	c.requireEmptyPlan()

	// The image does not run spec.version: its Pods roll, its servers
	// come back on 5.26.1, and the verification says so.
	c.edit(func(doc map[string]any) {
		setPath(doc, "5.26.2", "spec", "version")
		setPath(doc, "docker.io/library/neo4j:5.26.1-enterprise", "spec", "image")
	})
	res := c.apply()
	if res.code == 0 {
		t.Fatalf("apply of an upgrade that did not happen succeeded:\n%s", res)
	}
	out := res.stdout + res.stderr
	if !strings.Contains(out, "the upgrade did not happen") || !strings.Contains(out, "5.26.1") {
		t.Errorf("apply does not say the upgrade did not happen:\n%s", res)
	}
	if vs := c.serverVersions(); vs["5.26.2"] != 0 {
		t.Errorf("servers report %v: none runs 5.26.2", vs)
	}
	p, pres := c.plan()
	if pres.code != 1 || len(p.Refusals) == 0 {
		t.Errorf("plan after an upgrade that did not happen: want exit 1 with the refusal\n%s", pres)
	}
}

// serverVersions counts the versions the servers report in SHOW SERVERS
// (Dropped excluded), asked over Bolt as any client would.
func (c *cluster) serverVersions() map[string]int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := neo4j.Open(ctx, neo4j.Config{URI: c.sim.URI("neo4j"), Username: "neo4j", Password: c.password,
		Resolver: neo4j.MapResolver(c.sim.AddressMap())})
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close(ctx)
	servers, err := cl.Servers(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]int{}
	for _, s := range servers {
		if s.State != "Dropped" {
			out[s.Version]++
		}
	}
	return out
}
