package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// waitRollout is the last wait before the verifying plan, after an apply
// that changed a StatefulSet: its Pods Ready, and Neo4j answering Bolt.
// A Pod is Ready before its server answers (Neo4j opens Bolt once it has
// started), and a plan with no Neo4j step (a Community cluster: no server
// steps) has nothing else that would wait, so the verification read the
// server while it was starting and reported "neo4j not observed". The wait
// is bounded by StepTimeout and says what it last saw when it gives up.
func (e *Executor) waitRollout(ctx context.Context) error {
	if e.Options.NoRolloutWait {
		return nil
	}
	sets := e.rolledStatefulSets()
	if len(sets) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	for _, o := range sets {
		if o.rolledOut {
			continue // its step waited for it
		}
		ns, name, want := o.ns, o.name, o.replicas
		var last string
		err := e.Kube.WaitStatefulSet(ctx, ns, name, want, func(ready, want int) {
			last = fmt.Sprintf("%d/%d ready", ready, want)
		})
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("timed out after %s waiting for the Pods of StatefulSet %s/%s to be Ready (%s) before verifying; see kubectl -n %s get pods, or raise --step-timeout", e.Options.StepTimeout, ns, name, orDash(last), ns)
			}
			return err
		}
	}
	if e.Neo4j == nil {
		return nil // --skip-neo4j: the verification does not read Neo4j
	}
	e.hook().Message("Waiting for Neo4j to answer on Bolt before verifying…")
	var lastErr error
	for {
		// Each attempt is bounded: opening a connection to a server that
		// is still starting can otherwise take the whole wait.
		actx, cancel := context.WithTimeout(ctx, readTimeout)
		err := e.read(actx, "SHOW DATABASES", func(ctx context.Context, c Neo4j) error {
			_, err := c.Databases(ctx)
			return err
		})
		expired := actx.Err() != nil
		cancel()
		if err == nil {
			return nil
		}
		if expired && ctx.Err() == nil {
			e.closeNeo4j()
			err = fmt.Errorf("no answer within %s: %w", readTimeout, err)
		} else if ctx.Err() == nil && !pollRetryable(err) {
			return fmt.Errorf("Neo4j does not answer after the rollout: %w", err)
		}
		if ctx.Err() == nil {
			lastErr = err
		}
		if err := sleep(ctx, e.Options.PollInterval); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("timed out after %s waiting for Neo4j to answer on Bolt before verifying (last error: %v); its Pods are Ready: see their logs (kubectl -n %s logs %s), or raise --step-timeout", e.Options.StepTimeout, lastErr, sets[0].ns, sets[0].name+"-0")
			}
			return err
		}
	}
}

type rolledSet struct {
	ns, name  string
	replicas  int
	rolledOut bool
}

// rolledStatefulSets are the StatefulSets this apply sent, with the
// replicas last sent and whether a step has waited for them since.
func (e *Executor) rolledStatefulSets() []rolledSet {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []rolledSet
	for addr, o := range e.sent {
		if o == nil || o.GetKind() != "StatefulSet" {
			continue
		}
		ns := o.GetNamespace()
		if ns == "" {
			ns = e.namespace
		}
		out = append(out, rolledSet{ns: ns, name: o.GetName(), replicas: replicasOf(o), rolledOut: e.rolledOut[addr]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ns+"/"+out[i].name < out[j].ns+"/"+out[j].name })
	return out
}

func (e *Executor) setRolledOut(address string, done bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rolledOut == nil {
		e.rolledOut = map[string]bool{}
	}
	e.rolledOut[address] = done
}
