package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/neo4jctl/neo4jctl/plan"
)

// PlanView renders a plan.
type PlanView interface {
	Render(w io.Writer, p *plan.Plan) error
}

// Plan output formats.
const (
	FormatHuman    = "human"
	FormatCompact  = "compact"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
)

// NewPlanView returns the view for format (human, compact, json or
// markdown). color applies to the human view only.
func NewPlanView(format string, color bool) (PlanView, error) {
	switch format {
	case FormatHuman, "":
		return humanPlan{color: color}, nil
	case FormatCompact:
		return compactPlan{}, nil
	case FormatJSON:
		return jsonPlan{}, nil
	case FormatMarkdown:
		return markdownPlan{}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want human, compact, json or markdown)", format)
}

// NoChanges is the summary line of an empty plan; scripts grep it.
const NoChanges = "No changes. The cluster matches the cluster file."

// SummaryLine is the frozen one-line summary scripts grep:
// "Plan: 2 to add, 1 to change, 0 to destroy, 1 Neo4j step (1 irreversible)."
// or NoChanges. The irreversible count appears only when there is one; a
// plan with refusals or an unknown plane never reads "No changes".
func SummaryLine(p *plan.Plan) string {
	if !p.HasChanges() && len(p.Refusals) == 0 && !p.Incomplete {
		return NoChanges
	}
	s := p.Summary
	line := fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy, %d Neo4j %s", s.Add, s.Change, s.Destroy, s.Neo4jSteps, plural(s.Neo4jSteps, "step", "steps"))
	if s.Irreversible > 0 {
		line += fmt.Sprintf(" (%d irreversible)", s.Irreversible)
	}
	return line + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type jsonPlan struct{}

func (jsonPlan) Render(w io.Writer, p *plan.Plan) error { return plan.Encode(w, p) }

// symbol is the action marker of ARCHITECTURE.md "Addresses and actions".
func symbol(s plan.Step) string {
	if s.Irreversible {
		return "!"
	}
	switch s.Action {
	case plan.ActionCreate:
		return "+"
	case plan.ActionDelete:
		return "-"
	case plan.ActionReplace:
		return "-/+"
	case plan.ActionRead:
		return "<="
	}
	return "~"
}

// displayAddress shortens server ids ("neo4j:server/3f2a9c1e… (prod-3)"):
// the address keys by id, people recognise the name.
func displayAddress(s plan.Step) string {
	if s.Server == nil && len(s.Servers) > 0 {
		ids, names := make([]string, len(s.Servers)), make([]string, len(s.Servers))
		for i, ss := range s.Servers {
			ids[i], names[i] = shortID(ss.ServerID), ss.Name
			if ss.Name == "" || ss.Name == ss.ServerID {
				names[i] = podOf(&s.Servers[i])
			}
		}
		return "neo4j:server/" + strings.Join(ids, ",") + " (" + strings.Join(names, ", ") + ")"
	}
	if s.Server == nil {
		return s.Address
	}
	if s.Server.ServerID == "" {
		return s.Address + " (pending)"
	}
	id := s.Server.ServerID
	if len(id) > 8 {
		id = id[:8] + "…"
	}
	name := s.Server.Name
	if name == "" || name == s.Server.ServerID {
		name = podOf(s.Server)
	}
	return "neo4j:server/" + id + " (" + name + ")"
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

func podOf(s *plan.ServerStep) string {
	return s.StatefulSet + "-" + strconv.Itoa(s.Ordinal)
}

// statement is what a step does, in the words of the Neo4j manual.
func statement(s plan.Step) string {
	transition := ""
	if s.Server != nil && s.Server.FromState != "" && s.Server.ToState != "" {
		transition = s.Server.FromState + " → " + s.Server.ToState + "  "
	}
	if len(s.Servers) > 0 && s.Servers[0].ToState != "" {
		transition = "→ " + s.Servers[0].ToState + "  "
	}
	switch s.Kind {
	case plan.KindEnableServer:
		return transition + "ENABLE SERVER"
	case plan.KindAlterServer:
		return "ALTER SERVER SET OPTIONS"
	case plan.KindCordon:
		return transition + "CORDON"
	case plan.KindDeallocate:
		if len(s.Servers) > 1 {
			return transition + "DEALLOCATE DATABASES FROM SERVERS"
		}
		return transition + "DEALLOCATE DATABASES FROM SERVER"
	case plan.KindRenameServer:
		if s.Server != nil {
			return "RENAME SERVER TO '" + s.Server.Name + "'"
		}
	case plan.KindReallocate:
		if s.Batch != nil {
			return fmt.Sprintf("CALL dbms.cluster.reallocateNumberOfDatabases(%d), until nothing moves", *s.Batch)
		}
		return "REALLOCATE DATABASES"
	case plan.KindDropServer:
		return transition + "DROP SERVER"
	case plan.KindCreateDatabase:
		st := "CREATE DATABASE " + s.Database.Name
		if s.Database.Primaries > 0 {
			st += fmt.Sprintf(" TOPOLOGY %d PRIMARIES %d SECONDARIES", s.Database.Primaries, s.Database.Secondaries)
		}
		return st
	case plan.KindAlterTopology:
		return fmt.Sprintf("ALTER DATABASE %s SET TOPOLOGY %d PRIMARIES %d SECONDARIES", s.Database.Name, s.Database.Primaries, s.Database.Secondaries)
	case plan.KindAlterAccess:
		return fmt.Sprintf("ALTER DATABASE %s SET ACCESS %s", s.Database.Name, strings.ToUpper(strings.ReplaceAll(s.Database.Access, "-", " ")))
	case plan.KindUpgradePreflight, plan.KindUpgradeVerify:
		return upgradeStatement(s)
	case plan.KindRollingUpdate:
		if s.Rollout != nil {
			return "rolling update " + strings.Join(s.Rollout.Pods, ", ")
		}
	case plan.KindSetSetting:
		return fmt.Sprintf("%s → %s (needs rolling restart)", value(s.Before), value(s.After))
	case plan.KindSetConfigValue:
		if s.Server != nil {
			return fmt.Sprintf("%s → %s on %s (CALL dbms.setConfigValue, no restart)", value(s.Before), value(s.After), s.Server.Name)
		}
	case plan.KindRestartServer:
		if s.Server != nil {
			return fmt.Sprintf("restart Pod %s-%d alone", s.Server.StatefulSet, s.Server.Ordinal)
		}
	case plan.KindApply, plan.KindDelete, plan.KindReplace:
		return string(s.Action)
	case plan.KindResizeClaim:
		if s.Resize != nil {
			return fmt.Sprintf("storage %s → %s", s.Resize.From, s.Resize.Size)
		}
	}
	return ""
}

// stepLine is "<symbol> <address>  <what>  (<why>)".
func stepLine(s plan.Step) string {
	line := symbol(s) + " " + displayAddress(s)
	what := statement(s)
	why := s.Reason
	if what == "" {
		what, why = why, ""
	}
	if what != "" {
		line += "  " + what
	}
	if why != "" && why != what {
		line += "  (" + why + ")"
	}
	return line
}

// stepDetails are the lines shown under a step: Neo4j's answer to the
// DRYRUN of its statement, one line per allocation it would move.
func stepDetails(s plan.Step) []string {
	if s.DryRun == nil {
		switch s.Kind {
		case plan.KindDeallocate:
			return []string{"DRYRUN not run at plan time: apply runs it first and stops if Neo4j refuses"}
		case plan.KindReallocate:
			return []string{"DRYRUN REALLOCATE DATABASES runs at apply time, once the new servers are Enabled (before that Neo4j has nowhere to move databases); apply reports its answer"}
		}
		return nil
	}
	if len(s.DryRun.Moves) == 0 {
		return []string{s.DryRun.Statement + ": nothing to move"}
	}
	out := []string{s.DryRun.Statement + ":"}
	for _, m := range s.DryRun.Moves {
		from, to := m.FromServerName, m.ToServerName
		if from == "" {
			from = shortID(m.FromServerID)
		}
		if to == "" {
			to = shortID(m.ToServerID)
		}
		out = append(out, fmt.Sprintf("  %s (%s): %s → %s", m.Database, m.Mode, from, to))
	}
	return out
}

// value renders one field value; strings quoted, objects as compact JSON.
func value(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if x == plan.Sensitive {
			return "***"
		}
		return strconv.Quote(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// header is Terraform's "will be …" phrase for a change block.
func header(s plan.Step) string {
	switch s.Action {
	case plan.ActionCreate:
		return "will be created"
	case plan.ActionDelete:
		return "will be destroyed"
	case plan.ActionReplace:
		return "must be replaced"
	}
	return "will be updated in-place"
}

// hasBlock reports whether a step gets a change block before the step list.
func hasBlock(s plan.Step) bool {
	switch s.Action {
	case plan.ActionCreate, plan.ActionUpdate, plan.ActionDelete, plan.ActionReplace:
		return s.Object != nil || s.Kind == plan.KindSetSetting
	}
	return false
}

// fieldLines renders a change's field diffs; mark chooses the +/~/- marker.
func fieldLines(s plan.Step) []string {
	var out []string
	if s.Kind == plan.KindSetSetting {
		return []string{"~ value: " + statement(s)}
	}
	for _, f := range s.FieldDiffs {
		var line string
		switch {
		case f.Sensitive && f.Before != nil && f.After != nil:
			line = "~ " + f.Path + ": *** (before) → *** (after)"
		case f.Sensitive && f.Before == nil:
			line = "+ " + f.Path + ": *** (after)"
		case f.Sensitive:
			line = "- " + f.Path + ": *** (before)"
		case f.Hunks != "":
			line = "~ " + f.Path + ":"
		case f.Before == nil:
			line = "+ " + f.Path + ": " + value(f.After)
		case f.After == nil:
			line = "- " + f.Path + ": " + value(f.Before)
		default:
			line = "~ " + f.Path + ": " + value(f.Before) + " → " + value(f.After)
		}
		if f.Manager != "" {
			line += "  (changed by " + f.Manager + ")"
		}
		if f.ForcesReplacement {
			line += "  # forces replacement"
		}
		out = append(out, line)
		if f.Hunks != "" && !f.Sensitive {
			for _, h := range strings.Split(strings.TrimSuffix(f.Hunks, "\n"), "\n") {
				out = append(out, "    "+h)
			}
		}
	}
	return out
}
