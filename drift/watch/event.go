package watch

import "time"

// Event levels, as in apply's NDJSON stream.
const (
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// Event is one line of watch's event stream (`neo4jctl watch -o json`
// prints each as an NDJSON object). Type drives consumers; Message is for
// people.
type Event struct {
	Time    time.Time `json:"@timestamp"`
	Level   string    `json:"@level"`
	Message string    `json:"@message"`
	// Type is one of: serving, loaded, leader, follower, reconciled,
	// drift, in-sync, held, applied, apply-failed, locked, suspended,
	// resumed, neo4j-unreachable, circuit, audit-failed, error, warning,
	// stopped.
	Type    string `json:"type"`
	Cluster string `json:"cluster,omitempty"`
	// Addresses are the drifted addresses (drift, applied) or the
	// clusters watched (loaded).
	Addresses []string `json:"addresses,omitempty"`
	// Changed lists what differs since the previous drift event of the
	// cluster ("<address> <field path>", or the address alone for a step
	// without fields): a new field drifting on an object that already
	// drifted is reported, with the field (drift).
	Changed []string `json:"changed,omitempty"`
	// Held are the addresses of steps left for a person (held).
	Held []string `json:"held,omitempty"`
	// Summary is the plan's summary line.
	Summary string `json:"summary,omitempty"`
	// Observed lists the objects a reconcile dry-ran (reconciled): only
	// those whose informer-observed state changed.
	Observed []string `json:"observed,omitempty"`
	// Seconds is the reconcile's duration (reconciled).
	Seconds float64 `json:"seconds,omitempty"`
	// Addr is the address /metrics is served on (serving).
	Addr string `json:"addr,omitempty"`
}
