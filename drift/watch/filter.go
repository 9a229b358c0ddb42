package watch

import (
	"fmt"

	"github.com/neo4jctl/neo4jctl/plan"
)

// Held reports whether enforce mode must leave a step to a person: the
// irreversible Neo4j steps (DEALLOCATE, DROP SERVER) and every step that
// deletes or replaces something — a StatefulSet or PVC takes data with it, a
// database drop cannot be undone, and the others (an object the cluster
// file no longer renders) are rare enough that a person should look. It
// keys on the plan's Kind and Action fields, never on display strings.
func Held(s plan.Step) bool {
	switch {
	case s.Irreversible:
		return true
	case s.Kind == plan.KindDelete, s.Kind == plan.KindReplace:
		return true
	case s.Action == plan.ActionDelete, s.Action == plan.ActionReplace:
		return true
	}
	return false
}

// Split divides p into what enforce mode may run and what waits for a
// person: the held steps and, transitively, every step depending on one
// (a scale-in's lower replicas waits for its DROP SERVER). With allow (the
// explicit opt-in) nothing is held. The returned plan is a copy; p is not
// changed. Summary is recomputed for the kept steps.
func Split(p *plan.Plan, allow bool) (kept *plan.Plan, held []plan.Step) {
	if p == nil {
		return nil, nil
	}
	out := *p
	out.Steps = nil
	dropped := map[string]bool{}
	for _, s := range p.Steps {
		hold := !allow && Held(s)
		for _, d := range s.DependsOn {
			if dropped[d] {
				hold = true
			}
		}
		if hold {
			dropped[s.ID] = true
			held = append(held, s)
			continue
		}
		out.Steps = append(out.Steps, s)
	}
	out.Summary = summarize(out.Steps)
	return &out, held
}

// summarize counts steps as plan does (plan's own counter is unexported).
func summarize(steps []plan.Step) plan.Summary {
	var s plan.Summary
	for _, st := range steps {
		switch st.Action {
		case plan.ActionCreate:
			s.Add++
		case plan.ActionUpdate:
			s.Change++
		case plan.ActionDelete:
			s.Destroy++
		case plan.ActionReplace:
			s.Add++
			s.Destroy++
		case plan.ActionNeo4j:
			s.Neo4jSteps++
		}
		if st.Irreversible {
			s.Irreversible++
		}
	}
	return s
}

// DriftedAddresses lists the distinct addresses a plan would change, in
// plan order; read-only steps (waits) are not drift.
func DriftedAddresses(p *plan.Plan) []string {
	if p == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range p.Steps {
		if s.Action == plan.ActionRead || s.Kind == plan.KindWaitServerFree || s.Kind == plan.KindWaitServerEnabled ||
			s.Kind == plan.KindWaitDeallocated || s.Kind == plan.KindWaitDatabaseOnline {
			continue
		}
		if !seen[s.Address] {
			seen[s.Address] = true
			out = append(out, s.Address)
		}
	}
	return out
}

// AllowIrreversible decides whether enforce mode may run a cluster's held
// steps (irreversible, data-losing, or depending on one). Only watch's own
// command line (--allow-irreversible) grants it: whoever can edit a
// cluster file or a ConfigMap in the namespace — a wider group than who
// deploys watch — must not be able to make watch DROP a server. The
// AnnotationAllowIrreversible annotation, on the cluster file's
// metadata.annotations or on the ConfigMap holding it, can only narrow:
// any value but "true" withdraws the grant for that cluster (an unreadable
// value is read as the safe "no"), and "true" grants nothing. why says
// what held the steps back, for the event a person reads.
func AllowIrreversible(flag bool, clusterFile, configMap map[string]string) (allow bool, why string) {
	sources := []struct {
		where string
		ann   map[string]string
	}{{"the cluster file", clusterFile}, {"the cluster file's ConfigMap", configMap}}
	granted := ""
	for _, src := range sources {
		v, ok := src.ann[AnnotationAllowIrreversible]
		switch {
		case !ok:
		case v == "true":
			granted = src.where
		case flag:
			return false, fmt.Sprintf("the %s=%q annotation on %s withdraws --allow-irreversible for this cluster", AnnotationAllowIrreversible, v, src.where)
		}
	}
	switch {
	case flag:
		return true, ""
	case granted != "":
		return false, fmt.Sprintf("the %s annotation on %s cannot grant irreversible steps; only watch's --allow-irreversible can", AnnotationAllowIrreversible, granted)
	}
	return false, "watch runs without --allow-irreversible"
}
