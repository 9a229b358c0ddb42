package clusterfile

import "fmt"

// Probes are the thresholds of the Neo4j container's three probes; what
// each probe asks is neo4jctl's (docs/probes.md). An unset field takes its
// default. The defaults lean long, as the Operations Manual's own Helm
// values do (kubernetes/configuration.adoc: "Because Neo4j uses Java these
// values are large to distinguish between long Garbage Collection pauses
// (which don't require a restart) and an actual failure").
type Probes struct {
	// Startup holds liveness and readiness off until the server answers:
	// recovery of a large store after a crash, or a new cluster waiting for
	// its members. Defaults: periodSeconds 10, timeoutSeconds 5,
	// failureThreshold 180 (30 minutes).
	Startup ProbeTiming `json:"startup,omitempty"`
	// Liveness restarts a server that stopped answering. It never depends
	// on another member. Defaults: periodSeconds 15, timeoutSeconds 5,
	// failureThreshold 8 (2 minutes, longer than a long GC pause).
	Liveness ProbeTiming `json:"liveness,omitempty"`
	// Readiness takes a server out of the Services while it cannot serve
	// reads. Defaults: periodSeconds 10, timeoutSeconds 5, failureThreshold 3.
	Readiness ProbeTiming `json:"readiness,omitempty"`
}

// ProbeTiming is one probe's thresholds, as Kubernetes names them; 0 takes
// the default.
type ProbeTiming struct {
	// PeriodSeconds is how often the kubelet probes.
	PeriodSeconds int32 `json:"periodSeconds,omitempty" jsonschema:"minimum=1"`
	// TimeoutSeconds is how long one probe may take.
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty" jsonschema:"minimum=1"`
	// FailureThreshold is how many probes in a row must fail before the
	// kubelet acts (restart, or not Ready).
	FailureThreshold int32 `json:"failureThreshold,omitempty" jsonschema:"minimum=1"`
}

// Default probe thresholds (see Probes).
var (
	DefaultStartupProbe   = ProbeTiming{PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 180}
	DefaultLivenessProbe  = ProbeTiming{PeriodSeconds: 15, TimeoutSeconds: 5, FailureThreshold: 8}
	DefaultReadinessProbe = ProbeTiming{PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 3}
)

// Effective returns the thresholds with every unset field at its default
// (all of them for a nil Probes).
func (p *Probes) Effective() Probes {
	if p == nil {
		p = &Probes{}
	}
	return Probes{
		Startup:   p.Startup.or(DefaultStartupProbe),
		Liveness:  p.Liveness.or(DefaultLivenessProbe),
		Readiness: p.Readiness.or(DefaultReadinessProbe),
	}
}

func (t ProbeTiming) or(d ProbeTiming) ProbeTiming {
	if t.PeriodSeconds == 0 {
		t.PeriodSeconds = d.PeriodSeconds
	}
	if t.TimeoutSeconds == 0 {
		t.TimeoutSeconds = d.TimeoutSeconds
	}
	if t.FailureThreshold == 0 {
		t.FailureThreshold = d.FailureThreshold
	}
	return t
}

// probes checks spec.probes: every threshold positive (0 is the default).
func (v *validator) probes(p *Probes) {
	if p == nil {
		return
	}
	for _, pr := range []struct {
		name string
		t    ProbeTiming
	}{{"startup", p.Startup}, {"liveness", p.Liveness}, {"readiness", p.Readiness}} {
		for _, f := range []struct {
			name string
			val  int32
		}{{"periodSeconds", pr.t.PeriodSeconds}, {"timeoutSeconds", pr.t.TimeoutSeconds}, {"failureThreshold", pr.t.FailureThreshold}} {
			if f.val < 0 {
				v.add(fmt.Sprintf("spec.probes.%s.%s", pr.name, f.name), fmt.Sprintf("must be positive, got %d", f.val),
					"leave it out for the default (docs/probes.md), or give a number of seconds or probes ≥ 1")
			}
		}
	}
}
