package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// The JSON document is a wire form separate from the model so that the model
// can grow without silently changing the documented format
// (docs/plan-json.md). Large values (objects before and after) live only in
// changes[]; steps[] carry what apply needs and name their change by step id.
type document struct {
	FormatVersion string         `json:"format_version"`
	Cluster       string         `json:"cluster,omitempty"`
	Namespace     string         `json:"namespace,omitempty"`
	Edition       string         `json:"edition,omitempty"`
	KubeMode      string         `json:"kube_mode,omitempty"`
	CreatedAt     *time.Time     `json:"created_at,omitempty"`
	HasChanges    bool           `json:"has_changes"`
	Applicable    bool           `json:"applicable"`
	Incomplete    bool           `json:"incomplete"`
	Unknown       []wireUnknown  `json:"unknown,omitempty"`
	Summary       wireSummary    `json:"summary"`
	Changes       []wireChange   `json:"changes"`
	Steps         []wireStep     `json:"steps"`
	Refusals      []wireRefusal  `json:"refusals"`
	Warnings      []string       `json:"warnings"`
	Conflicts     []wireConflict `json:"conflicts,omitempty"`
	Freshness     wireFreshness  `json:"freshness"`
	Targets       []string       `json:"targets,omitempty"`
	Excludes      []string       `json:"excludes,omitempty"`
}

type wireUnknown struct {
	Plane  string `json:"plane"`
	Reason string `json:"reason"`
}

type wireSummary struct {
	Add          int `json:"add"`
	Change       int `json:"change"`
	Destroy      int `json:"destroy"`
	Neo4jSteps   int `json:"neo4j_steps"`
	Irreversible int `json:"irreversible"`
}

type wireChange struct {
	Address      string          `json:"address"`
	Actions      []string        `json:"actions"`
	Kind         string          `json:"kind"`
	Step         string          `json:"step"`
	Irreversible bool            `json:"irreversible,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	Before       any             `json:"before"`
	After        any             `json:"after"`
	FieldDiffs   []wireFieldDiff `json:"field_diffs,omitempty"`
}

type wireFieldDiff struct {
	Path              string `json:"path"`
	Before            any    `json:"before"`
	After             any    `json:"after"`
	Hunks             string `json:"hunks,omitempty"`
	Manager           string `json:"manager,omitempty"`
	Sensitive         bool   `json:"sensitive,omitempty"`
	ForcesReplacement bool   `json:"forces_replacement,omitempty"`
}

type wireStep struct {
	ID           string         `json:"id"`
	Address      string         `json:"address"`
	Action       string         `json:"action"`
	Kind         string         `json:"kind"`
	Irreversible bool           `json:"irreversible,omitempty"`
	DependsOn    []string       `json:"depends_on"`
	Sequence     string         `json:"sequence,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	Object       *ObjectRef     `json:"object,omitempty"`
	Replicas     *int32         `json:"replicas,omitempty"`
	Partition    *int32         `json:"partition,omitempty"`
	Server       *ServerStep    `json:"server,omitempty"`
	Database     *DatabaseStep  `json:"database,omitempty"`
	Setting      *SettingStep   `json:"setting,omitempty"`
	Rollout      *Rollout       `json:"rollout,omitempty"`
	Servers      []ServerStep   `json:"servers,omitempty"`
	DryRun       *DryRun        `json:"dry_run,omitempty"`
	Resize       *ClaimResize   `json:"resize,omitempty"`
	Upgrade      *UpgradeStep   `json:"upgrade,omitempty"`
	Discovery    *DiscoveryStep `json:"discovery,omitempty"`
	Batch        *int32         `json:"batch,omitempty"`
}

type wireRefusal struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
	Fix     string `json:"fix"`
}

type wireConflict struct {
	Address string `json:"address"`
	Field   string `json:"field"`
	Manager string `json:"manager"`
}

type wireFreshness struct {
	ClusterFileSHA256 string       `json:"cluster_file_sha256"`
	RenderedDigest    string       `json:"rendered_digest"`
	Objects           []wireObject `json:"objects"`
	Neo4jDigest       string       `json:"neo4j_digest,omitempty"`
}

type wireObject struct {
	Address     string `json:"address"`
	UID         string `json:"uid,omitempty"`
	Generation  int64  `json:"generation,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// actionsOf spells a step's action the way Terraform's JSON plan does;
// a replacement is a delete followed by a create.
func actionsOf(a Action) []string {
	if a == ActionReplace {
		return []string{"delete", "create"}
	}
	return []string{string(a)}
}

// Encode writes the plan as its versioned JSON document, indented, with a
// trailing newline. Every value in it has already been redacted by Compute.
func Encode(w io.Writer, p *Plan) error {
	doc := document{
		FormatVersion: p.FormatVersion, Cluster: p.Cluster, Namespace: p.Namespace, Edition: p.Edition, KubeMode: p.KubeMode,
		HasChanges: p.HasChanges(), Applicable: p.Applicable(), Incomplete: p.Incomplete,
		Summary:  wireSummary(p.Summary),
		Changes:  []wireChange{},
		Steps:    []wireStep{},
		Refusals: []wireRefusal{},
		Warnings: append([]string{}, p.Warnings...),
		Targets:  p.Targets, Excludes: p.Excludes,
		Freshness: wireFreshness{ClusterFileSHA256: p.Freshness.ClusterFileSHA256, RenderedDigest: p.Freshness.RenderedDigest,
			Neo4jDigest: p.Freshness.Neo4jDigest, Objects: []wireObject{}},
	}
	if doc.FormatVersion == "" {
		doc.FormatVersion = FormatVersion
	}
	if !p.CreatedAt.IsZero() {
		t := p.CreatedAt
		doc.CreatedAt = &t
	}
	for _, u := range p.Unknown {
		doc.Unknown = append(doc.Unknown, wireUnknown(u))
	}
	for _, s := range p.Steps {
		deps := append([]string{}, s.DependsOn...)
		doc.Steps = append(doc.Steps, wireStep{ID: s.ID, Address: s.Address, Action: string(s.Action), Kind: string(s.Kind),
			Irreversible: s.Irreversible, DependsOn: deps, Sequence: s.Sequence, Reason: s.Reason, Object: s.Object,
			Replicas: s.Replicas, Partition: s.Partition, Server: s.Server, Database: s.Database, Setting: s.Setting, Rollout: s.Rollout,
			Servers: s.Servers, DryRun: s.DryRun, Resize: s.Resize, Upgrade: s.Upgrade, Discovery: s.Discovery, Batch: s.Batch})
		if s.Action == ActionRead {
			continue
		}
		c := wireChange{Address: s.Address, Actions: actionsOf(s.Action), Kind: string(s.Kind), Step: s.ID,
			Irreversible: s.Irreversible, Reason: s.Reason, Before: s.Before, After: s.After}
		for _, f := range s.FieldDiffs {
			c.FieldDiffs = append(c.FieldDiffs, wireFieldDiff(f))
		}
		doc.Changes = append(doc.Changes, c)
	}
	for _, r := range p.Refusals {
		doc.Refusals = append(doc.Refusals, wireRefusal(r))
	}
	for _, c := range p.Conflicts {
		doc.Conflicts = append(doc.Conflicts, wireConflict(c))
	}
	for _, o := range p.Freshness.Objects {
		doc.Freshness.Objects = append(doc.Freshness.Objects, wireObject(o))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	return nil
}

// FleetEntry is one cluster of a fleet's plan: its plan, or the error that
// kept it from being planned.
type FleetEntry struct {
	File      string
	Namespace string
	Cluster   string
	Plan      *Plan
	Err       error
}

type fleetDocument struct {
	FormatVersion string           `json:"format_version"`
	Fleet         bool             `json:"fleet"`
	Summary       wireFleetSummary `json:"summary"`
	Plans         []wireFleetEntry `json:"plans"`
}

type wireFleetSummary struct {
	Clusters      int `json:"clusters"`
	WithChanges   int `json:"with_changes"`
	NotApplicable int `json:"not_applicable"`
	Failed        int `json:"failed"`
	wireSummary
}

type wireFleetEntry struct {
	File      string           `json:"file"`
	Namespace string           `json:"namespace"`
	Cluster   string           `json:"cluster"`
	Error     string           `json:"error,omitempty"`
	Plan      *json.RawMessage `json:"plan"`
}

// FleetSummary counts a fleet's plans; the step counts add up every
// planned cluster's.
type FleetSummary struct {
	Clusters, WithChanges, NotApplicable, Failed int
	Summary
}

// SummarizeFleet counts entries.
func SummarizeFleet(entries []FleetEntry) FleetSummary {
	s := FleetSummary{Clusters: len(entries)}
	for _, e := range entries {
		switch {
		case e.Err != nil || e.Plan == nil:
			s.Failed++
			continue
		case !e.Plan.Applicable():
			s.NotApplicable++
		}
		if e.Plan.HasChanges() {
			s.WithChanges++
		}
		s.Add += e.Plan.Summary.Add
		s.Change += e.Plan.Summary.Change
		s.Destroy += e.Plan.Summary.Destroy
		s.Neo4jSteps += e.Plan.Summary.Neo4jSteps
		s.Irreversible += e.Plan.Summary.Irreversible
	}
	return s
}

// EncodeFleet writes a fleet's plans as one JSON document (so a fleet's
// `plan -o json` is parseable as a whole): a summary and, per cluster in
// file order, its file, its name and either its plan document (as Encode
// writes it) or its error.
func EncodeFleet(w io.Writer, entries []FleetEntry) error {
	fs := SummarizeFleet(entries)
	doc := fleetDocument{FormatVersion: FormatVersion, Fleet: true, Plans: []wireFleetEntry{},
		Summary: wireFleetSummary{Clusters: fs.Clusters, WithChanges: fs.WithChanges, NotApplicable: fs.NotApplicable,
			Failed: fs.Failed, wireSummary: wireSummary(fs.Summary)}}
	for _, e := range entries {
		we := wireFleetEntry{File: e.File, Namespace: e.Namespace, Cluster: e.Cluster}
		if e.Err != nil {
			we.Error = e.Err.Error()
		}
		if e.Plan != nil {
			var b bytes.Buffer
			if err := Encode(&b, e.Plan); err != nil {
				return err
			}
			raw := json.RawMessage(bytes.TrimSpace(b.Bytes()))
			we.Plan = &raw
		}
		doc.Plans = append(doc.Plans, we)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode fleet plan: %w", err)
	}
	return nil
}

// Decode reads a plan written by Encode. It refuses a format_version it does
// not know rather than guess at a saved plan's meaning.
func Decode(r io.Reader) (*Plan, error) {
	var doc document
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	if doc.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("decode plan: format_version %q is not supported (this neo4jctl reads %q); plan again with this version", doc.FormatVersion, FormatVersion)
	}
	p := &Plan{FormatVersion: doc.FormatVersion, Cluster: doc.Cluster, Namespace: doc.Namespace, Edition: doc.Edition,
		KubeMode: doc.KubeMode, Incomplete: doc.Incomplete, Summary: Summary(doc.Summary), Warnings: doc.Warnings,
		Targets: doc.Targets, Excludes: doc.Excludes,
		Freshness: Freshness{ClusterFileSHA256: doc.Freshness.ClusterFileSHA256, RenderedDigest: doc.Freshness.RenderedDigest,
			Neo4jDigest: doc.Freshness.Neo4jDigest}}
	if doc.CreatedAt != nil {
		p.CreatedAt = *doc.CreatedAt
	}
	for _, u := range doc.Unknown {
		p.Unknown = append(p.Unknown, UnknownPlane(u))
	}
	changes := map[string]wireChange{}
	for _, c := range doc.Changes {
		changes[c.Step] = c
	}
	for _, s := range doc.Steps {
		st := Step{ID: s.ID, Address: s.Address, Action: Action(s.Action), Kind: Kind(s.Kind), Irreversible: s.Irreversible,
			DependsOn: s.DependsOn, Sequence: s.Sequence, Reason: s.Reason, Object: s.Object, Replicas: s.Replicas,
			Partition: s.Partition, Server: s.Server, Database: s.Database, Setting: s.Setting, Rollout: s.Rollout,
			Servers: s.Servers, DryRun: s.DryRun, Resize: s.Resize, Upgrade: s.Upgrade, Discovery: s.Discovery, Batch: s.Batch}
		if len(st.DependsOn) == 0 {
			st.DependsOn = nil
		}
		if c, ok := changes[s.ID]; ok {
			st.Before, st.After = c.Before, c.After
			for _, f := range c.FieldDiffs {
				st.FieldDiffs = append(st.FieldDiffs, FieldDiff(f))
			}
		}
		p.Steps = append(p.Steps, st)
	}
	for _, r := range doc.Refusals {
		p.Refusals = append(p.Refusals, Refusal(r))
	}
	for _, c := range doc.Conflicts {
		p.Conflicts = append(p.Conflicts, Conflict(c))
	}
	for _, o := range doc.Freshness.Objects {
		p.Freshness.Objects = append(p.Freshness.Objects, ObjectFreshness(o))
	}
	if len(p.Warnings) == 0 {
		p.Warnings = nil
	}
	return p, nil
}
