package apply

import "github.com/neo4jctl/neo4jctl/plan"

// Hook receives apply's progress. The views implement it (human lines,
// NDJSON events); apply itself never prints. Calls come from one goroutine
// at a time except StepRetry and StepProgress, which may come from the
// clients' retry loops and progress tickers while a step runs: an
// implementation must be safe for concurrent use.
type Hook interface {
	// Message reports a stage that is not a step: the preflight, the
	// verifying plan.
	Message(msg string)
	// StepStarted is called before a step runs.
	StepStarted(s plan.Step)
	// StepProgress reports a long wait: "Still waiting for StatefulSet
	// graph/prod (2/3 ready) [20s elapsed]".
	StepProgress(s plan.Step, msg string)
	// StepRetry reports a retried request: what was attempted, the attempt
	// that failed (1-based) and its error. s is the zero Step outside any
	// step (preflight, verification).
	StepRetry(s plan.Step, what string, attempt int, err error)
	// StepFinished is called once per step, also for skipped steps.
	StepFinished(s plan.Step, r StepResult)
	// Summary is called once at the end with the whole result.
	Summary(r *Result)
}

// NopHook discards all progress.
type NopHook struct{}

// Message implements Hook.
func (NopHook) Message(string) {}

// StepStarted implements Hook.
func (NopHook) StepStarted(plan.Step) {}

// StepProgress implements Hook.
func (NopHook) StepProgress(plan.Step, string) {}

// StepRetry implements Hook.
func (NopHook) StepRetry(plan.Step, string, int, error) {}

// StepFinished implements Hook.
func (NopHook) StepFinished(plan.Step, StepResult) {}

// Summary implements Hook.
func (NopHook) Summary(*Result) {}
