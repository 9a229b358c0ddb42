package plan

import (
	"fmt"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// The verification objects of spec.backups.verification.schedule
// (manifests.AppliedVerifyObjects): a scratch namespace with its quota,
// ServiceAccount, cluster file and CronJob, and a Role and RoleBinding in
// the cluster's namespace. They are not members of the cluster's
// ApplySet (an ApplySet is confined to its parent's namespace, and the
// scratch namespace is another), so they are planned here, after the
// cluster's own steps, from an observation of their own.

// SequenceVerification is the Sequence of every verification step:
// --target and --exclude keep or drop them together.
const SequenceVerification = "verification"

// KindDeleteVerification deletes a verification object at Object (UID
// checked) that carries the verification labels of the plan's cluster;
// for the scratch Namespace, apply waits until it is gone (with
// everything in it).
const KindDeleteVerification Kind = "delete-verification"

// VerificationObserved is what the pipeline observed of the verification
// objects: Objects are the desired ones, in apply order (the Namespace
// first), each with its live state and dry run; Stale are live ones
// neo4jctl applied that the file no longer asks for.
type VerificationObserved struct {
	// Scratch is the scratch namespace's name.
	Scratch string
	Objects []state.Object
	Stale   []state.Object
	// Targets and Excludes are the plan's --target and --exclude.
	Targets, Excludes []string
	// Setting, What and NamespaceNote name the objects in the steps'
	// reasons; empty for the verification objects (the DR drill's set
	// them, pipeline/target_drill.go).
	Setting, What, NamespaceNote string
}

// AppendVerification adds the verification steps to p, after the
// cluster's own, and counts them in the summary. An object in a scratch
// namespace this plan creates could not be dry-run (the API server
// refuses a dry run in a namespace that does not exist): it is planned as
// a create of the rendered object, and its reason says so.
func AppendVerification(p *Plan, v VerificationObserved) {
	if p == nil || (len(v.Objects) == 0 && len(v.Stale) == 0) {
		return
	}
	base := len(p.Steps)
	next := base
	id := func() string {
		next++
		return fmt.Sprintf("s%02d", next)
	}
	if v.Setting == "" {
		v.Setting, v.What = "spec.backups.verification.schedule", "backup verification"
		v.NamespaceNote = "with everything in it (the CronJob, its Jobs, quota, ServiceAccount, cluster file, pull-Secret copies): no data, the verification results stay in the backup catalogue"
	}
	nsStep, nsNew := "", false
	for _, o := range v.Objects {
		st := Step{Address: o.Address, Object: objectRef(o), Sequence: SequenceVerification}
		inNew := nsNew && o.Namespace == v.Scratch
		switch {
		case o.Live == nil && (o.DryRunError == "" || inNew):
			after := o.Predicted
			if after == nil {
				after = o.Desired
			}
			st.Action, st.Kind, st.Reason = ActionCreate, KindApply, "not in the cluster ("+v.What+")"
			if inNew {
				st.Reason += "; not dry-run: its namespace " + v.Scratch + " is created by this plan"
			}
			st.After = redact(o.Kind, nil, after)
		case o.DryRunError != "":
			p.Refusals = append(p.Refusals, Refusal{Address: o.Address,
				Reason: "the API server refused the dry run: " + o.DryRunError,
				Fix:    "correct spec.backups in the cluster file (the message says what the API server rejects) and plan again"})
			continue
		default:
			after, subset := o.Predicted, false
			if after == nil {
				after, subset = o.Desired, true
			}
			diffs := verifyDiffs(o, after, subset)
			if len(diffs) == 0 {
				continue
			}
			st.Action, st.Kind, st.Reason = ActionUpdate, KindApply, updateReason(diffs)
			st.Before, st.After, st.FieldDiffs = redact(o.Kind, nil, o.Live), redact(o.Kind, nil, after), diffs
		}
		st.ID = id()
		if o.Kind == "Namespace" && o.Group == "" {
			nsStep, nsNew = st.ID, o.Live == nil
		} else if nsStep != "" && o.Namespace == v.Scratch {
			st.DependsOn = []string{nsStep}
		}
		p.Steps = append(p.Steps, st)
	}
	for _, o := range v.Stale {
		st := Step{ID: id(), Address: o.Address, Object: objectRef(o), Sequence: SequenceVerification,
			Action: ActionDelete, Kind: KindDeleteVerification,
			Reason: v.Setting + " is not set"}
		if o.Kind == "Namespace" {
			st.Reason += "; " + v.NamespaceNote
		}
		st.Before = redact(o.Kind, nil, o.Live)
		p.Steps = append(p.Steps, st)
	}
	// --target and --exclude keep or drop the sequence whole, as they do
	// the cluster's sequences.
	added := p.Steps[base:]
	keep := len(v.Targets) == 0
	for _, st := range added {
		keep = keep || anyMatches(v.Targets, st.Address)
		if anyMatches(v.Excludes, st.Address) {
			keep = false
			break
		}
	}
	if !keep {
		p.Steps = p.Steps[:base]
	}
	p.Summary = summarize(p.Steps)
}

// verifyDiffs are the fields where after differs from the live object
// (a verification object has no ignore rules and no imported owner).
func verifyDiffs(o state.Object, after map[string]any, subset bool) []FieldDiff {
	var raw []rawDiff
	diffValues(o.Live, after, nil, subset, &raw)
	redLive, redAfter := redact(o.Kind, nil, o.Live), redact(o.Kind, nil, after)
	var out []FieldDiff
	for _, r := range raw {
		f := FieldDiff{Path: joinPath(r.segs), Manager: managerOf(o.Managers, r.segs, o.Live, after)}
		if !r.absentBefore {
			f.Before, _ = lookup(redLive, r.segs)
		}
		if !r.absentAfter {
			f.After, _ = lookup(redAfter, r.segs)
		}
		if s, ok := f.Before.(string); ok && s == Sensitive {
			f.Sensitive = true
		}
		if s, ok := f.After.(string); ok && s == Sensitive {
			f.Sensitive = true
		}
		out = append(out, f)
	}
	return out
}

// anyMatches reports whether one of globs matches addr (as --target and
// --exclude match the cluster's steps).
func anyMatches(globs []string, addr string) bool {
	for _, g := range globs {
		if matchAddress(g, addr) {
			return true
		}
	}
	return false
}
