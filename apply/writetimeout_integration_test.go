package apply_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/apply"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/plan"
)

// TestApplyRereadsAfterWriteTimeout: a Neo4j write whose answer does not
// come within the write deadline may still take effect (Operations Manual,
// database-administration/standard-databases/wait-options.adoc, NOTE: an
// interrupted command continues in the background). Apply reads SHOW
// SERVERS and SHOW DATABASES again before it decides anything else: a
// step whose effect is there is done; one whose effect is not fails with
// the state the re-read found, and nothing after it runs.
func TestApplyRereadsAfterWriteTimeout(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	t3 := f.load(3)
	f.apply(ctx, t3, f.plan(ctx, t3))

	f.writeTimeout = 500 * time.Millisecond
	f.sim.SetLogReads(true)

	// Scale-out: ENABLE SERVER and REALLOCATE DATABASES take effect at
	// once, but answer only after the deadline.
	t4 := f.load(4)
	p := f.plan(ctx, t4)
	f.sim.ResetLog()
	f.hook.reset()
	f.sim.SlowNext("ENABLE SERVER", 0, 3*time.Second)
	f.sim.SlowNext("REALLOCATE DATABASES", 0, 3*time.Second)
	res, err := f.executor(t4).Apply(ctx, apply.Target{Namespace: t4.Namespace, Objects: t4.Objects, Inventory: t4.Inventory}, p)
	if err != nil || !res.Verified {
		t.Fatalf("scale-out with late answers: err %v, verified %v\nsteps: %s", err, res.Verified, f.hook.dump())
	}
	for _, kind := range []plan.Kind{plan.KindEnableServer, plan.KindReallocate} {
		st := stepOf(t, res, kind)
		if st.Status != apply.StatusApplied || !strings.Contains(st.Note, "read again") {
			t.Errorf("%s step: %s %q, want applied with a note that the state was read again", kind, st.Status, st.Note)
		}
	}
	// After each late write, and before any other write: SHOW SERVERS and
	// SHOW DATABASES.
	for _, cmd := range []string{"ENABLE SERVER", "REALLOCATE DATABASES"} {
		if reads := readsAfter(f.sim.Log(), cmd); !reads["SHOW SERVERS"] || !reads["SHOW DATABASES"] {
			t.Errorf("after %s timed out, read %v before the next write; want SHOW SERVERS and SHOW DATABASES", cmd, reads)
		}
	}

	// Scale-in: DEALLOCATE takes effect only after the re-read. The step
	// fails saying what the re-read found; DROP SERVER and the StatefulSet
	// scale-in do not run.
	p = f.plan(ctx, t3)
	f.sim.ResetLog()
	f.hook.reset()
	f.sim.SlowNext("DEALLOCATE DATABASES", 2*time.Second, 3*time.Second)
	res, err = f.executor(t3).Apply(ctx, apply.Target{Namespace: t3.Namespace, Objects: t3.Objects, Inventory: t3.Inventory}, p)
	if err == nil {
		t.Fatalf("scale-in whose DEALLOCATE had not taken effect when read again succeeded\nsteps: %s", f.hook.dump())
	}
	st := stepOf(t, res, plan.KindDeallocate)
	msg := ""
	if st.Err != nil {
		msg = st.Err.Error()
	}
	t.Logf("DEALLOCATE past its deadline: %s", msg)
	for _, want := range []string{"no answer within", "Cordoned", "may still take effect", "neo4jctl plan"} {
		if st.Status != apply.StatusFailed || !strings.Contains(msg, want) {
			t.Errorf("DEALLOCATE step: %s %q, want failed saying %q", st.Status, msg, want)
		}
	}
	// Its statement is logged when it takes effect, after the re-read: the
	// reads are those of the step's own time (it reads SHOW DATABASES for
	// nothing else).
	from := f.hook.startedAt(plan.KindDeallocate, st.Address)
	reads := map[string]bool{}
	for _, s := range f.sim.Log() {
		if !s.Time.Before(from) && !s.Time.After(from.Add(st.Duration)) {
			reads[s.Command] = true
		}
	}
	if !reads["SHOW SERVERS"] || !reads["SHOW DATABASES"] {
		t.Errorf("while DEALLOCATE ran and timed out, read %v; want SHOW SERVERS and SHOW DATABASES", reads)
	}
	for _, s := range f.sim.Log() {
		if s.Command == "DROP SERVER" {
			t.Errorf("DROP SERVER sent after a DEALLOCATE of unknown outcome: %+v", s)
		}
	}
	// It did take effect in the end: the next plan and apply finish the
	// scale-in from there.
	time.Sleep(3 * time.Second)
	f.writeTimeout = 0
	res = f.apply(ctx, t3, f.plan(ctx, t3))
	if !res.Verified {
		t.Errorf("apply after the late DEALLOCATE: not verified\nsteps: %s", f.hook.dump())
	}
}

func stepOf(t *testing.T, res *apply.Result, kind plan.Kind) apply.StepResult {
	t.Helper()
	for _, s := range res.Steps {
		if s.Kind == kind {
			return s
		}
	}
	t.Fatalf("no %s step in %+v", kind, res.Steps)
	return apply.StepResult{}
}

// readsAfter returns the reads logged after the first cmd and before the
// next write.
func readsAfter(log []neo4jsim.Statement, cmd string) map[string]bool {
	reads := map[string]bool{}
	after := false
	for _, s := range log {
		switch {
		case !after:
			after = s.Command == cmd
		case strings.HasPrefix(s.Command, "SHOW "), strings.HasPrefix(s.Command, "DRYRUN "), s.Command == "RETURN", strings.HasPrefix(s.Query, "CALL dbms.components"):
			reads[s.Command] = true
		default:
			return reads
		}
	}
	return reads
}
