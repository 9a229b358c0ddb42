package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/neo4jctl/neo4jctl/apply"
	"github.com/neo4jctl/neo4jctl/plan"
)

// ApplyView is an apply.Hook that renders apply's progress and result.
type ApplyView interface {
	apply.Hook
	// Error reports an error that ended apply outside any step (the lock,
	// a stale plan, a refused preflight).
	Error(err error)
	// Interrupted reports that Ctrl-C stopped apply, and what it left
	// behind: an outcome the user asked for, not an error.
	Interrupted(msg string)
}

// ApplyViewOptions say where an apply view writes.
type ApplyViewOptions struct {
	// Out receives the result table and summary (human), or every event
	// (json).
	Out io.Writer
	// ErrOut receives the human view's progress lines.
	ErrOut io.Writer
	Color  bool
	// Now stamps NDJSON events; default time.Now.
	Now func() time.Time
}

// NewApplyView returns the human or json (NDJSON events) apply view.
func NewApplyView(format string, o ApplyViewOptions) (ApplyView, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	switch format {
	case FormatHuman, "":
		return &humanApply{o: o, st: newStyles(o.ErrOut, o.Color)}, nil
	case FormatJSON:
		return &jsonApply{o: o}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want human or json)", format)
}

// verbs name what a step is doing and what it did, by kind.
var verbs = map[plan.Kind][2]string{
	plan.KindApply:              {"Applying", "Applied"},
	plan.KindScaleStatefulSet:   {"Scaling", "Scaled"},
	plan.KindDelete:             {"Deleting", "Deleted"},
	plan.KindReplace:            {"Replacing", "Replaced"},
	plan.KindResizeClaim:        {"Resizing", "Resized"},
	plan.KindRollingUpdate:      {"Rolling out", "Rolled out"},
	plan.KindWaitServerFree:     {"Waiting for its Pod and its Free server", "Server joined"},
	plan.KindEnableServer:       {"ENABLE SERVER", "Enabled"},
	plan.KindAlterServer:        {"ALTER SERVER SET OPTIONS", "Options set"},
	plan.KindWaitServerEnabled:  {"Waiting until Enabled and Available", "Enabled and Available"},
	plan.KindCordon:             {"Cordoning", "Cordoned"},
	plan.KindDeallocate:         {"DEALLOCATE DATABASES FROM SERVER", "Deallocating"},
	plan.KindWaitDeallocated:    {"Waiting until it hosts only system", "Deallocated"},
	plan.KindDropServer:         {"DROP SERVER", "Dropped"},
	plan.KindDeleteClaim:        {"Deleting the retained claim", "Claim deleted"},
	plan.KindDeleteVerification: {"Deleting", "Deleted"},
	plan.KindCreateDatabase:     {"CREATE DATABASE", "Created"},
	plan.KindDropDatabase:       {"DROP DATABASE", "Dropped"},
	plan.KindWaitDatabaseOnline: {"Waiting until online", "Online"},
	plan.KindAlterTopology:      {"ALTER DATABASE SET TOPOLOGY", "Topology set"},
	plan.KindAlterAccess:        {"ALTER DATABASE SET ACCESS", "Access set"},
	plan.KindSetSetting:         {"Checking setting", "Setting follows the ConfigMap"},
	plan.KindSetConfigValue:     {"CALL dbms.setConfigValue", "Set on the server"},
	plan.KindRestartServer:      {"Restarting the server's Pod", "Restarted and back"},
}

func verb(k plan.Kind, done bool) string {
	v, ok := verbs[k]
	if !ok {
		v = [2]string{"Running " + string(k), "Done"}
	}
	if done {
		return v[1]
	}
	return v[0]
}

// stepLabel is how a line names a step: its address, with the server's
// name when the address is only an id.
func stepLabel(s plan.Step) string {
	if s.Server != nil && s.Server.Name != "" && !strings.HasSuffix(s.Address, "/"+s.Server.Name) {
		return s.Address + " (" + s.Server.Name + ")"
	}
	return s.Address
}

// humanApply prints one line when a step starts and one when it ends,
// "Still waiting …" lines during waits, and retries; then a result table
// and the summary line. No spinners: the lines are stable in logs and CI.
type humanApply struct {
	o  ApplyViewOptions
	st styles
	mu sync.Mutex
}

func (v *humanApply) line(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.o.ErrOut, format+"\n", args...)
}

func (v *humanApply) Message(msg string) { v.line("%s", msg) }

func (v *humanApply) StepStarted(s plan.Step) {
	v.line("%s %s: %s…", v.st.dim("["+s.ID+"]"), stepLabel(s), verb(s.Kind, false))
}

func (v *humanApply) StepProgress(s plan.Step, msg string) {
	v.line("%s %s: %s", v.st.dim("["+s.ID+"]"), stepLabel(s), msg)
}

func (v *humanApply) StepRetry(s plan.Step, what string, attempt int, err error) {
	id := s.ID
	if id == "" {
		id = "--"
	}
	v.line("%s %s", v.st.dim("["+id+"]"), v.st.change(fmt.Sprintf("Retrying %s (attempt %d failed: %v)", what, attempt, err)))
}

func (v *humanApply) StepFinished(s plan.Step, r apply.StepResult) {
	id := v.st.dim("[" + s.ID + "]")
	switch r.Status {
	case apply.StatusFailed:
		v.line("%s %s: %s", id, stepLabel(s), v.st.destroy(fmt.Sprintf("Failed after %s: %v", dur(r.Duration), r.Err)))
	case apply.StatusSkipped:
		v.line("%s %s: %s", id, stepLabel(s), v.st.dim("Skipped: "+r.Note))
	case apply.StatusUnchanged:
		v.line("%s %s: Unchanged (%s)", id, stepLabel(s), r.Note)
	default:
		msg := fmt.Sprintf("%s after %s", verb(s.Kind, true), dur(r.Duration))
		if r.Note != "" {
			msg += " (" + r.Note + ")"
		}
		v.line("%s %s: %s", id, stepLabel(s), v.st.add(msg))
	}
}

func (v *humanApply) Error(err error) { v.line("%s", v.st.destroy("Error: "+err.Error())) }

func (v *humanApply) Interrupted(msg string) { v.line("%s", v.st.change("Interrupted: "+msg)) }

// Summary prints the result table when something did not go to plan (a
// clean run has already said everything line by line) and the summary line.
func (v *humanApply) Summary(r *apply.Result) {
	v.mu.Lock()
	defer v.mu.Unlock()
	w := v.o.Out
	if len(r.Preflight) > 0 {
		fmt.Fprintln(w, "The preflight dry run refused:")
		for _, err := range r.Preflight {
			fmt.Fprintf(w, "  - %v\n", err)
		}
	}
	if r.Failed() && len(r.Steps) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STEP\tSTATUS\tADDRESS\tKIND\tDETAIL")
		for _, s := range r.Steps {
			detail := s.Note
			if s.Err != nil {
				detail = s.Err.Error()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Status, s.Address, s.Kind, oneLine(detail))
		}
		tw.Flush()
	}
	line := r.SummaryLine()
	if r.Failed() {
		line = v.st.destroy(line)
	} else {
		line = v.st.add(line)
	}
	fmt.Fprintln(w, line)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "…"
	}
	return s
}

func dur(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// jsonApply writes one JSON object per line, Terraform's machine-readable
// UI shape: "@level", "@message", "@timestamp", "type" and the event's
// fields. Types: message, apply_start, apply_progress, apply_retry,
// apply_complete, apply_errored, apply_skipped, error, interrupted,
// change_summary.
type jsonApply struct {
	o  ApplyViewOptions
	mu sync.Mutex
}

// ApplyEventVersion is the version of the NDJSON event stream.
const ApplyEventVersion = "1"

type jsonHook struct {
	ID      string  `json:"id"`
	Address string  `json:"address"`
	Kind    string  `json:"kind"`
	Action  string  `json:"action,omitempty"`
	Server  string  `json:"server,omitempty"`
	Status  string  `json:"status,omitempty"`
	Error   string  `json:"error,omitempty"`
	Note    string  `json:"note,omitempty"`
	Elapsed float64 `json:"elapsed_seconds,omitempty"`
	What    string  `json:"what,omitempty"`
	Attempt int     `json:"attempt,omitempty"`
}

func (v *jsonApply) emit(level, typ, msg string, fields map[string]any) {
	ev := map[string]any{
		"@level":     level,
		"@message":   msg,
		"@timestamp": v.o.Now().UTC().Format(time.RFC3339Nano),
		"type":       typ,
	}
	for k, val := range fields {
		ev[k] = val
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.o.Out.Write(append(b, '\n'))
}

func hookOf(s plan.Step) jsonHook {
	h := jsonHook{ID: s.ID, Address: s.Address, Kind: string(s.Kind), Action: string(s.Action)}
	if s.Server != nil {
		h.Server = s.Server.Name
	}
	return h
}

func (v *jsonApply) Message(msg string) { v.emit("info", "message", msg, nil) }

func (v *jsonApply) StepStarted(s plan.Step) {
	v.emit("info", "apply_start", fmt.Sprintf("%s: %s…", stepLabel(s), verb(s.Kind, false)), map[string]any{"hook": hookOf(s)})
}

func (v *jsonApply) StepProgress(s plan.Step, msg string) {
	v.emit("info", "apply_progress", stepLabel(s)+": "+msg, map[string]any{"hook": hookOf(s)})
}

func (v *jsonApply) StepRetry(s plan.Step, what string, attempt int, err error) {
	h := hookOf(s)
	h.What, h.Attempt, h.Error = what, attempt, err.Error()
	v.emit("warn", "apply_retry", fmt.Sprintf("Retrying %s (attempt %d failed: %v)", what, attempt, err), map[string]any{"hook": h})
}

func (v *jsonApply) StepFinished(s plan.Step, r apply.StepResult) {
	h := hookOf(s)
	h.Status, h.Note, h.Elapsed = string(r.Status), r.Note, r.Duration.Seconds()
	switch r.Status {
	case apply.StatusFailed:
		h.Error = r.Err.Error()
		v.emit("error", "apply_errored", fmt.Sprintf("%s: Failed: %v", stepLabel(s), r.Err), map[string]any{"hook": h})
	case apply.StatusSkipped:
		v.emit("warn", "apply_skipped", fmt.Sprintf("%s: Skipped: %s", stepLabel(s), r.Note), map[string]any{"hook": h})
	default:
		v.emit("info", "apply_complete", fmt.Sprintf("%s: %s", stepLabel(s), verb(s.Kind, true)), map[string]any{"hook": h})
	}
}

func (v *jsonApply) Error(err error) {
	v.emit("error", "error", err.Error(), nil)
}

func (v *jsonApply) Interrupted(msg string) {
	v.emit("warn", "interrupted", msg, nil)
}

func (v *jsonApply) Summary(r *apply.Result) {
	level := "info"
	if r.Failed() {
		level = "error"
	}
	var pre []string
	for _, err := range r.Preflight {
		pre = append(pre, err.Error())
	}
	v.emit(level, "change_summary", r.SummaryLine(), map[string]any{"changes": map[string]any{
		"applied":     r.Count(apply.StatusApplied),
		"failed":      r.Count(apply.StatusFailed),
		"skipped":     r.Count(apply.StatusSkipped),
		"unchanged":   r.Count(apply.StatusUnchanged),
		"verified":    r.Verified,
		"interrupted": r.Interrupted,
		"preflight":   pre,
		"operation":   "apply",
	}})
}
