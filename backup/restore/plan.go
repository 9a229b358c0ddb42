package restore

import (
	"fmt"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// FormatVersion is the version of the plan's JSON form.
const FormatVersion = "1"

// Kind is how a restore is carried out.
type Kind string

const (
	// KindCommunityLoad stops the standalone server (replicas 0), loads
	// the dump into its claim in a Job, and starts it again.
	KindCommunityLoad Kind = "community-load"
	// KindClusterSeed serves the restored artifact inside the cluster
	// and seeds the database on every allocation from it.
	KindClusterSeed Kind = "cluster-seed"
)

// Action is what happens to the database restored into.
type Action string

const (
	// ActionReplace replaces an existing database's data.
	ActionReplace Action = "replace"
	// ActionCreate creates a new database from the backup.
	ActionCreate Action = "create"
)

// StepKind says what a step does; the executor branches on it.
type StepKind string

const (
	StepStop        StepKind = "stop"        // scale the StatefulSet to 0, wait
	StepLoad        StepKind = "load"        // the load Job, followed to its end
	StepStart       StepKind = "start"       // scale back, wait Ready
	StepServeSeed   StepKind = "serve-seed"  // NetworkPolicy, Service, seed Pod; wait Ready
	StepCreate      StepKind = "create"      // CREATE DATABASE … OPTIONS {existingData: 'use', seedURI}
	StepRecreate    StepKind = "recreate"    // CALL dbms.cluster.recreateDatabase
	StepWaitOnline  StepKind = "wait-online" // every allocation online
	StepCleanup     StepKind = "cleanup"     // delete the restore's objects
	StepHealthcheck StepKind = "healthcheck" // neo4jctl healthcheck of the cluster
)

// Step is one step of a restore, in order.
type Step struct {
	Kind StepKind `json:"kind"`
	// Address is the object or database the step acts on.
	Address string `json:"address"`
	// Action is the plan's marker (+ ~ - ! <=); display only.
	Action string `json:"action"`
	// Detail says what the step does; display only.
	Detail string `json:"detail"`
}

// Artifact is one artifact of the chain as the plan shows it.
type Artifact struct {
	ID      string       `json:"id"`
	File    string       `json:"file"`
	Type    catalog.Type `json:"type"`
	Created time.Time    `json:"created"`
	Size    int64        `json:"size"`
	// Verified is the result of its last verification by restore
	// ("" never verified).
	Verified string `json:"verified,omitempty"`
}

// LossWindow is the data the restored database will not hold.
type LossWindow struct {
	// From is the time of the newest data restored.
	From time.Time `json:"from"`
	// To is the end of the window: now for a restore of the latest
	// point, the --until time otherwise.
	To time.Time `json:"to"`
	// Exact is true when the chain is cut exactly at To (nothing
	// committed before To is missing).
	Exact       bool   `json:"exact"`
	Description string `json:"description"`
}

// Plan is a restore, computed before anything changes.
type Plan struct {
	FormatVersion string `json:"format_version"`
	// Cluster and Namespace are the target: the cluster restored into,
	// the only one written.
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	// Context is the target's Kubernetes context; display only.
	Context string `json:"context,omitempty"`
	Edition string `json:"edition"`
	// Source is where the backups are read from: the target itself, or
	// another cluster (file) and bucket, never written.
	Source Source `json:"source"`
	// Database is the database the backup is of; Into the one restored
	// into (Database, or --as).
	Database string `json:"database"`
	Into     string `json:"into"`
	Action   Action `json:"action"`
	Kind     Kind   `json:"kind"`
	// Point drives the restore: the chain and the cut.
	Point     Point      `json:"point"`
	Artifacts []Artifact `json:"artifacts"`
	Window    LossWindow `json:"lossWindow"`
	Steps     []Step     `json:"steps"`
	// ConfirmName is the name to type before a replace ("" for a create).
	ConfirmName string `json:"confirmName,omitempty"`
	// Notes are what a user must know: users and roles, simulated steps.
	Notes []string `json:"notes,omitempty"`
	// Refusals stop the restore before anything changes.
	Refusals []string `json:"refusals,omitempty"`

	// What the executor acts on.
	ObjectName     string `json:"objectName"`
	ServiceAccount string `json:"serviceAccount"`
	StatefulSet    string `json:"statefulSet,omitempty"`
	// Replicas is the StatefulSet's count to start again with (the
	// cluster file's).
	Replicas int32  `json:"replicas,omitempty"`
	Claim    string `json:"claim,omitempty"`
	// SeedFile is the artifact served as is (a single full, not cut);
	// empty when the chain is replayed and dumped first.
	SeedFile string `json:"seedFile,omitempty"`
	SeedURI  string `json:"seedURI,omitempty"`
	// Primaries and Secondaries are the topology of a created database
	// (0: the server defaults).
	Primaries   int `json:"primaries,omitempty"`
	Secondaries int `json:"secondaries,omitempty"`
}

// FromOtherCluster reports whether the backups are another cluster's (or
// the same cluster's in another namespace): a restore into a new cluster,
// namespace or Kubernetes context. A plan without a source (encoded
// before sources were recorded) is of the target itself.
func (p *Plan) FromOtherCluster() bool {
	return p.Source.Cluster != "" && (p.Source.Cluster != p.Cluster || p.Source.Namespace != p.Namespace)
}

// SeedFileName is the file the seed Pod serves.
func (p *Plan) SeedFileName() string {
	if p.SeedFile != "" {
		return p.SeedFile
	}
	return p.Into + ".dump"
}

// Input is what Compute needs: the cluster file, the chosen point, and
// what was observed of the cluster.
type Input struct {
	Cluster   *clusterfile.Cluster
	Namespace string
	// Context is the target's Kubernetes context (display).
	Context  string
	Database string
	// Source is the cluster the backups are of (Cluster, Namespace,
	// File); zero: the target itself.
	Source Source
	// Backups is the spec.backups the restore's Pods read with
	// (FetchBackups of the source's); nil: the target's own.
	Backups *clusterfile.Backups
	// MissingSecrets are Secrets of Backups found missing from the
	// target's namespace (checked only when the source is another
	// cluster or a copy): a restore whose Pods could not start is
	// refused before anything changes.
	MissingSecrets []string
	// As restores into another name (empty: Database).
	As    string
	Point Point
	// Until is the --until time asked for (zero: none).
	Until time.Time
	Now   time.Time
	// IntoExists says the database restored into exists (Enterprise: in
	// SHOW DATABASES; Community: the StatefulSet exists).
	IntoExists bool
	// Replicas is the rendered StatefulSet's replica count (Community).
	Replicas int32
	// ClaimsDeletedOnScaleDown is the rendered StatefulSet's
	// persistentVolumeClaimRetentionPolicy.whenScaled == Delete.
	ClaimsDeletedOnScaleDown bool
	// Primaries and Secondaries are the topology for a created
	// database: the source's requested counts when known.
	Primaries, Secondaries int
}

// Compute builds the restore plan. It contacts nothing.
func Compute(in Input) *Plan {
	c := in.Cluster
	into := in.As
	if into == "" {
		into = in.Database
	}
	p := &Plan{
		FormatVersion: FormatVersion, Cluster: c.Metadata.Name, Namespace: in.Namespace, Context: in.Context, Edition: string(c.Spec.Edition),
		Database: in.Database, Into: into, Point: in.Point,
		ObjectName: objectName(c.Metadata.Name, into),
	}
	p.Source = in.Source
	if p.Source.Cluster == "" {
		p.Source.Cluster, p.Source.Namespace = c.Metadata.Name, in.Namespace
	}
	b := in.Backups
	if b == nil {
		b = c.Spec.Backups
	}
	if b == nil {
		p.Refusals = append(p.Refusals, "the source cluster file has no spec.backups: there is nothing to read the backups with")
	} else {
		p.Source.Storage = LocationURL(b.Storage.URL)
		p.Source.Secrets = Secrets(b)
	}
	for _, s := range in.MissingSecrets {
		p.Refusals = append(p.Refusals, fmt.Sprintf("Secret %s is not in namespace %s: the restore's Pods mount it to read the backups (the source's spec.backups names it); create it there, e.g. copy it from the source's namespace", s, in.Namespace))
	}
	if p.FromOtherCluster() {
		from := p.Source.Namespace + "/" + p.Source.Cluster
		if p.Source.File != "" {
			from += " (" + p.Source.File + ")"
		}
		p.Notes = append(p.Notes, "The source cluster "+from+" is only read: its backups come from its bucket ("+p.Source.Storage+"); no request goes to its Kubernetes namespace or its Neo4j servers.")
	}
	if in.Point.Location != "" {
		p.Notes = append(p.Notes, "The artifacts are read from the copy "+in.Point.Location+" (each copy's digest was checked at the destination when it was copied, and is checked again as it is downloaded); the restore's Pods never read the primary storage.")
	}
	for _, e := range in.Point.Chain {
		a := Artifact{ID: e.ID, File: e.File, Type: e.Type, Created: e.Created, Size: e.PlaintextSize}
		if v := e.LastVerification(); v != nil {
			a.Verified = string(v.Result)
		}
		p.Artifacts = append(p.Artifacts, a)
	}
	p.Action = ActionCreate
	if in.IntoExists {
		p.Action, p.ConfirmName = ActionReplace, into
	}
	p.Window = window(in, p)

	community := c.Spec.Edition == clusterfile.EditionCommunity
	if community {
		p.Kind = KindCommunityLoad
		p.ServiceAccount = manifests.ServiceAccountName(c)
		p.StatefulSet = manifests.StatefulSetName(c, "")
		p.Replicas = in.Replicas
		p.Claim = "data-" + p.StatefulSet + "-0"
		if in.As != "" && in.As != in.Database {
			p.Refusals = append(p.Refusals, fmt.Sprintf("--as %s: Neo4j Community runs one standard database, so a backup restores only over it (restore into a new name needs Enterprise, or a new cluster file)", in.As))
		}
		if in.ClaimsDeletedOnScaleDown {
			p.Refusals = append(p.Refusals, "spec.storage.pvcRetention.whenScaled is Delete: stopping the server (replicas 0) would delete the claim the dump is loaded into; set it to Retain and apply first")
		}
		if !in.IntoExists {
			p.Refusals = append(p.Refusals, fmt.Sprintf("StatefulSet %s/%s does not exist: run `neo4jctl apply` first, then restore into it", in.Namespace, p.StatefulSet))
		}
		for _, e := range in.Point.Chain {
			if e.Format != inspect.FormatDump {
				p.Refusals = append(p.Refusals, fmt.Sprintf("%s is an online backup (%s): Community's neo4j-admin has no database restore; only dumps load into Community", e.ID, e.File))
			}
		}
		sts := fmt.Sprintf("k8s:apps/StatefulSet/%s/%s", in.Namespace, p.StatefulSet)
		job := fmt.Sprintf("k8s:batch/Job/%s/%s", in.Namespace, p.ObjectName)
		p.Steps = []Step{
			{StepStop, sts, "~", fmt.Sprintf("replicas %d → 0: stop the server (%s is unavailable from here until the start step)", in.Replicas, into)},
			{StepLoad, job, "+", fmt.Sprintf("download and decrypt %s (digests checked), then neo4j-admin database load %s --overwrite-destination=true into claim %s", in.Point.Target().ID, into, p.Claim)},
			{StepStart, sts, "~", fmt.Sprintf("replicas 0 → %d: start the server, wait Ready", in.Replicas)},
			{StepCleanup, job, "-", "delete the load Job and its ConfigMap"},
			{StepHealthcheck, "k8s:" + in.Namespace + "/" + c.Metadata.Name, "<=", "neo4jctl healthcheck"},
		}
		p.Notes = append(p.Notes, "Users and roles are not restored: they live in the system database, which a dump does not hold (Operations Manual 5.26, backup-restore/restore-dump.adoc).")
		return p
	}

	p.Kind = KindClusterSeed
	p.ServiceAccount = manifests.BackupServiceAccountName(c)
	if c.Spec.Backups == nil {
		// The backup ServiceAccount exists only with spec.backups (a DR
		// target may have none): the servers' own, whose token the seed
		// Pod does not mount either.
		p.ServiceAccount = manifests.ServiceAccountName(c)
	}
	p.Primaries, p.Secondaries = in.Primaries, in.Secondaries
	if len(in.Point.Chain) == 1 && !in.Point.Cut() {
		p.SeedFile = in.Point.Target().File
	}
	p.SeedURI = fmt.Sprintf("http://%s.%s.svc:%d/%s", p.ObjectName, in.Namespace, SeedPort, p.SeedFileName())
	prep := "served as is"
	if p.SeedFile == "" {
		prep = "replayed with " + joinArgs(in.Point.AdminRestoreArgs(WorkDir, into, true)) + ", then dumped"
	}
	db := "neo4j:database/" + into
	p.Steps = []Step{
		{StepServeSeed, fmt.Sprintf("k8s:core/Pod/%s/%s", in.Namespace, p.ObjectName), "+",
			fmt.Sprintf("download and decrypt %d artifact(s), %s; served over HTTP at %s to the cluster's server Pods only (NetworkPolicy + Service %s)", len(in.Point.Chain), prep, p.SeedURI, p.ObjectName)},
	}
	if p.Action == ActionReplace {
		p.Steps = append(p.Steps, Step{StepRecreate, db, "!", fmt.Sprintf("CALL dbms.cluster.recreateDatabase('%s', {seedURI: '%s'}): every allocation's store is replaced", into, p.SeedURI)})
	} else {
		topo := "the server defaults' topology"
		if p.Primaries > 0 {
			topo = fmt.Sprintf("TOPOLOGY %d PRIMARIES %d SECONDARIES", p.Primaries, p.Secondaries)
		}
		p.Steps = append(p.Steps, Step{StepCreate, db, "+", fmt.Sprintf("CREATE DATABASE %s (%s) OPTIONS {existingData: 'use', seedURI: '%s'}", into, topo, p.SeedURI)})
	}
	p.Steps = append(p.Steps,
		Step{StepWaitOnline, db, "<=", "wait until every allocation is online (a bad seed shows only when the database starts)"},
		Step{StepCleanup, fmt.Sprintf("k8s:core/Pod/%s/%s", in.Namespace, p.ObjectName), "-", "delete the seed Pod, its Service, NetworkPolicy and ConfigMap"},
		Step{StepHealthcheck, "k8s:" + in.Namespace + "/" + c.Metadata.Name, "<=", "neo4jctl healthcheck"},
	)
	if p.Action == ActionReplace {
		p.Notes = append(p.Notes, "Users and roles are not restored: the privileges already granted on "+into+" are kept by dbms.cluster.recreateDatabase (Operations Manual 5.26, clustering/databases.adoc, \"Restore a database using the dbms.recreateDatabase() procedure\"); restore_metadata.cypher is not applied.")
	} else {
		p.Notes = append(p.Notes, "Users and roles are not restored: neo4jctl does not apply the restore_metadata.cypher neo4j-admin can write; grant privileges on "+into+" yourself (Operations Manual 5.26, backup-restore/restore-backup.adoc, \"Restore users and roles metadata\").")
	}
	return p
}

func window(in Input, p *Plan) LossWindow {
	pt := in.Point
	w := LossWindow{From: pt.RestoredTo, To: in.Now.UTC().Truncate(time.Second)}
	switch {
	case pt.Cut():
		w.To, w.Exact = pt.RestoreUntil, true
		w.Description = fmt.Sprintf("restored exactly to %s: transactions committed before it are restored", pt.RestoreUntil.Format(time.RFC3339))
	case !in.Until.IsZero():
		w.To = in.Until.UTC().Truncate(time.Second)
		w.Description = fmt.Sprintf("no restorable backup covers %s: transactions committed from %s to %s (%s) are not restored", w.To.Format(time.RFC3339), pt.RestoredTo.Format(time.RFC3339), w.To.Format(time.RFC3339), w.To.Sub(w.From).Round(time.Second))
	case p.Action == ActionReplace && p.FromOtherCluster():
		w.Description = fmt.Sprintf("the data of %s in %s/%s is replaced by %s/%s's %s as of %s (%s before now); the source is not touched", p.Into, p.Namespace, p.Cluster, p.Source.Namespace, p.Source.Cluster, p.Database, pt.RestoredTo.Format(time.RFC3339), w.To.Sub(w.From).Round(time.Second))
	case p.Action == ActionReplace:
		w.Description = fmt.Sprintf("every write to %s after %s is discarded (%s of writes up to now)", p.Into, pt.RestoredTo.Format(time.RFC3339), w.To.Sub(w.From).Round(time.Second))
	case p.FromOtherCluster():
		w.Description = fmt.Sprintf("the new database %s holds the data of %s/%s's %s up to %s (%s before now); the source is not touched", p.Into, p.Source.Namespace, p.Source.Cluster, p.Database, pt.RestoredTo.Format(time.RFC3339), w.To.Sub(w.From).Round(time.Second))
	default:
		w.Description = fmt.Sprintf("the new database %s holds the data of %s up to %s (%s before now); %s itself is not touched", p.Into, p.Database, pt.RestoredTo.Format(time.RFC3339), w.To.Sub(w.From).Round(time.Second), p.Database)
	}
	return w
}

func joinArgs(args []string) string {
	s := "neo4j-admin"
	for _, a := range args {
		s += " " + a
	}
	return s
}
