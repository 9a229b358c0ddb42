package plan

import "github.com/neo4jctl/neo4jctl/internal/state"

// AddPreflight turns the pre-flight findings into the plan: every missing
// prerequisite is a refusal with its fix (apply will not run a plan that
// has one, so it never writes some objects and then fails on a missing
// Secret), and every check the credentials could not make is a warning.
func AddPreflight(p *Plan, pf state.Preflight) {
	if p == nil {
		return
	}
	for _, m := range pf.Missing {
		p.Refusals = append(p.Refusals, Refusal{Address: m.Address, Reason: "pre-flight: " + m.Problem, Fix: m.Fix})
	}
	for _, u := range pf.Unchecked {
		p.Warnings = append(p.Warnings, "pre-flight: "+u)
	}
}
