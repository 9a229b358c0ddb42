package plan

import (
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// FormatVersion is the version of the plan model and of its JSON form. It
// changes only when a consumer of the JSON would have to change.
const FormatVersion = "1"

// Action is what a step does to its address.
type Action string

// Actions. Create, Update, Delete and Replace change an addressable object
// (a Kubernetes object, a database, a setting) and are counted as add, change
// and destroy; Neo4j is an administrative statement against a server; Read
// only waits for or checks something and changes nothing.
const (
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionDelete  Action = "delete"
	ActionReplace Action = "replace"
	ActionRead    Action = "read"
	ActionNeo4j   Action = "neo4j"
)

// Kind says exactly which operation apply performs for a step.
type Kind string

// Step kinds.
const (
	// KindApply is a server-side apply of the rendered object at Object.
	KindApply Kind = "apply"
	// KindScaleStatefulSet is a server-side apply of a StatefulSet whose
	// spec.replicas changes to Replicas; it is the StatefulSet's whole change,
	// placed where the safe sequence needs it.
	KindScaleStatefulSet Kind = "scale-statefulset"
	// KindDelete deletes the object at Object (never a PVC).
	KindDelete Kind = "delete"
	// KindReplace deletes and recreates the object (immutable field changed).
	KindReplace Kind = "replace"
	// KindRollingUpdate releases a StatefulSet's Pods one at a time in the
	// order of Rollout.Pods: apply lowers the partition to the Pod's
	// ordinal, waits until the Pod runs the update revision and is Ready
	// and, with Rollout.Servers, until its server is Enabled and Available
	// and hosts the databases it should, before the next Pod. The last
	// release sends the rendered object, which sets no partition.
	KindRollingUpdate Kind = "rolling-update"

	// KindWaitServerFree waits until SHOW SERVERS lists a server whose
	// address is the Pod's (Free, or already Enabled for a bootstrap server)
	// and records its serverId for the steps that name Server.PendingAddress.
	KindWaitServerFree Kind = "wait-server-free"
	// KindEnableServer sends ENABLE SERVER with Server.Options; when the
	// server is already Enabled (bootstrap servers enable themselves) apply
	// sends ALTER SERVER SET OPTIONS with the same options instead.
	KindEnableServer Kind = "enable-server"
	// KindAlterServer sends ALTER SERVER SET OPTIONS with the full Server.Options.
	KindAlterServer Kind = "alter-server"
	// KindWaitServerEnabled waits until the server is Enabled and Available.
	KindWaitServerEnabled Kind = "wait-server-enabled"
	// KindRenameServer sends RENAME SERVER '<id>' TO Server.Name, so SHOW
	// SERVERS names a new server after its Pod.
	KindRenameServer Kind = "rename-server"
	// KindCordon calls dbms.cluster.cordonServer.
	KindCordon Kind = "cordon"
	// KindDeallocate sends one DEALLOCATE DATABASES FROM SERVERS for every
	// server in Servers (irreversible). DryRun is Neo4j's answer to the
	// same statement's DRYRUN at plan time; without one, apply sends the
	// DRYRUN first and stops if Neo4j refuses it.
	KindDeallocate Kind = "deallocate"
	// KindReallocate sends REALLOCATE DATABASES, after DRYRUN REALLOCATE
	// DATABASES (whose answer apply reports), to spread the databases over
	// servers a scale-out enabled. With Batch set it calls
	// dbms.cluster.reallocateNumberOfDatabases(Batch) instead, waits until
	// the moved databases are online, and calls it again until it moves
	// nothing.
	KindReallocate Kind = "reallocate"
	// KindWaitDatabasesOnline waits until every allocation of every
	// database is online and each database's current counts equal its
	// requested ones (after a REALLOCATE).
	KindWaitDatabasesOnline Kind = "wait-databases-online"
	// KindWaitDeallocated waits until the server hosts only system.
	KindWaitDeallocated Kind = "wait-deallocated"
	// KindDropServer sends DROP SERVER (irreversible).
	KindDropServer Kind = "drop-server"
	// KindDeleteClaim deletes the PersistentVolumeClaim at Object (its UID
	// checked): a claim kept by a scale in whose volume holds the identity
	// of a dropped server, deleted before the Pod returns onto it
	// (irreversible).
	KindDeleteClaim Kind = "delete-claim"

	// KindCreateDatabase sends CREATE DATABASE with Database's topology.
	KindCreateDatabase Kind = "create-database"
	// KindWaitDatabaseOnline waits until every allocation of the database is online.
	KindWaitDatabaseOnline Kind = "wait-database-online"
	// KindAlterTopology sends ALTER DATABASE SET TOPOLOGY.
	KindAlterTopology Kind = "alter-topology"
	// KindAlterAccess sends ALTER DATABASE SET ACCESS.
	KindAlterAccess Kind = "alter-access"
	// KindSetSetting is display only: the setting changes through the
	// ConfigMap change and the rolling restart it depends on; apply verifies
	// it afterwards and sends nothing for it.
	KindSetSetting Kind = "set-setting"
	// KindSetConfigValue calls dbms.setConfigValue(Setting.Key, value) on
	// Server only, over a direct connection to it: a dynamic setting
	// changes without a restart, one server at a time (the procedure
	// affects only the member it runs on). The value is not in the plan:
	// apply reads it from the rendered dynamic settings' ConfigMap, so a
	// credential never reaches a plan file.
	KindSetConfigValue Kind = "set-config-value"
	// KindRestartServer restarts the Pod of Server alone (delete it; its
	// StatefulSet recreates it) and waits for it through the roll gate:
	// the Pod updated and Ready, its server Enabled, Available and
	// hosting what it should. Planned when a server runs with other
	// restart settings than its configuration holds and the configuration
	// itself is unchanged (it restarted with an out-of-band ConfigMap).
	KindRestartServer Kind = "restart-server"
)

// Plan is the result of Compute. Apply executes Steps in order; it refuses a
// plan with Refusals or Incomplete set.
type Plan struct {
	// FormatVersion drives decoding.
	FormatVersion string
	// Cluster and Namespace are display only.
	Cluster   string
	Namespace string
	// Edition is the Neo4j edition the plan was made for (observed when
	// reachable, else the cluster file's).
	Edition string
	// KubeMode is display only: "dry-run" or "structural".
	KubeMode string
	// CreatedAt is display only.
	CreatedAt time.Time

	// Steps drive apply: executed in this order, each after its DependsOn.
	Steps   []Step
	Summary Summary

	// Refusals drive apply (it will not run a plan that has any).
	Refusals []Refusal
	// Warnings are display only.
	Warnings []string
	// Incomplete drives exit codes: a plane could not be observed, so the
	// plan is not the whole truth; Unknown says which and why.
	Incomplete bool
	Unknown    []UnknownPlane
	// Conflicts are fields another Apply-operation manager owns.
	Conflicts []Conflict
	// Freshness drives saved-plan staleness checks (CheckFresh).
	Freshness Freshness
	// Targets and Excludes are the --target and --exclude the plan was
	// computed with: apply recomputes a saved plan with them before
	// CheckSameSteps. They only ever narrow a plan.
	Targets  []string
	Excludes []string

	// DryRunsWanted are the read-only DRYRUN statements this plan needs
	// answered and the observation did not carry (state.Neo4j.DryRuns):
	// the caller runs them and computes the plan again with the answers.
	// Not part of the saved plan.
	DryRunsWanted []state.DryRun
	// Withheld are differences of Kubernetes objects the plan found but
	// plans no step for because a refusal holds them back (a scale in or
	// out Neo4j's state forbids): they are differences all the same, and
	// drift reports them. Not part of the saved plan.
	Withheld []Withheld
}

// Withheld is a difference of one object that a refusal keeps apply from
// making.
type Withheld struct {
	Address    string
	Object     *ObjectRef
	FieldDiffs []FieldDiff
}

// Step is one thing apply does, in order.
type Step struct {
	// ID is stable within the plan ("s01", "s02", …) and what DependsOn names.
	ID string
	// Address is the object the step acts on; servers not yet known are
	// addressed by Server.PendingAddress.
	Address string
	Action  Action
	Kind    Kind
	// Irreversible marks DEALLOCATE and DROP SERVER: confirmation and watch
	// enforce mode key on it.
	Irreversible bool
	// DependsOn lists the IDs of steps that must have succeeded first; if
	// one failed or was skipped, apply skips this step.
	DependsOn []string
	// Sequence names the safe sequence the step belongs to (for example
	// "scale-in:graph/prod"); --target and --exclude keep or drop a sequence
	// whole, never part of it.
	Sequence string

	// Object identifies the Kubernetes object of a Kubernetes step.
	Object *ObjectRef
	// Replicas is the target of a scale-statefulset step.
	Replicas *int32
	// Partition, on the apply or scale step of a StatefulSet that a
	// rolling-update step follows, is the
	// spec.updateStrategy.rollingUpdate.partition apply sends with it, so
	// that the controller replaces no Pod until the rolling-update step
	// lowers the partition one Pod at a time.
	Partition *int32
	// Server, Database, Setting and Rollout are the parameters of Neo4j and
	// wait steps. Servers are the servers a step naming several acts on
	// (deallocate); Server is then nil.
	Server   *ServerStep
	Servers  []ServerStep
	Database *DatabaseStep
	Setting  *SettingStep
	Rollout  *Rollout
	// DryRun is what Neo4j answered, at plan time, to the DRYRUN of the
	// step's statement. Apply reads only whether it is there (see
	// KindDeallocate); the moves are for display.
	DryRun *DryRun
	// Resize is the claim and size of a resize-claim step (storage.go).
	Resize *ClaimResize
	// Upgrade is the version upgrade of an upgrade-preflight or
	// upgrade-verify step (plan/upgrade.go).
	Upgrade *UpgradeStep
	// Discovery is the discovery-service mode of a discovery-move or
	// discovery-verify step (plan/discovery.go).
	Discovery *DiscoveryStep
	// Batch, on a reallocate step, bounds each round to that many
	// databases with dbms.cluster.reallocateNumberOfDatabases instead of
	// one REALLOCATE DATABASES (balance.go).
	Batch *int32

	// Reason, Before, After and FieldDiffs are display only (and redacted).
	Reason     string
	Before     any
	After      any
	FieldDiffs []FieldDiff
}

// ObjectRef identifies a Kubernetes object.
type ObjectRef struct {
	Group     string `json:"group"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// UID is set for a claim to delete: apply deletes that very claim or
	// nothing.
	UID string `json:"uid,omitempty"`
}

// ServerStep is the server a Neo4j step acts on.
type ServerStep struct {
	// ServerID is the key when the server exists at plan time.
	ServerID string `json:"server_id,omitempty"`
	// PendingAddress ("neo4j:server/<sts>-<ordinal>") names a server that
	// will exist only after its Pod starts; the wait-server-free step resolves
	// it to a serverId during apply.
	PendingAddress string `json:"pending_address,omitempty"`
	// PodAddress is the advertised host the server's address must match.
	PodAddress  string `json:"pod_address,omitempty"`
	StatefulSet string `json:"statefulset,omitempty"`
	Ordinal     int    `json:"ordinal"`
	// Options are sent in full by enable-server and alter-server.
	Options *ServerOptions `json:"options,omitempty"`
	// Name, FromState and ToState are display only.
	Name      string `json:"name,omitempty"`
	FromState string `json:"from_state,omitempty"`
	ToState   string `json:"to_state,omitempty"`
}

// DatabaseStep is the database a database step acts on. Zero Primaries in a
// create means "Neo4j's default topology".
type DatabaseStep struct {
	Name        string `json:"name"`
	Primaries   int32  `json:"primaries,omitempty"`
	Secondaries int32  `json:"secondaries,omitempty"`
	Access      string `json:"access,omitempty"`
}

// SettingStep is a setting that differs from the live value.
type SettingStep struct {
	Key string `json:"key"`
	// Dynamic: dbms.setConfigValue can change it (the manual's list for
	// the version); NeedsRestart: it takes effect only when the servers
	// restart with the new configuration.
	Dynamic      bool `json:"dynamic"`
	NeedsRestart bool `json:"needs_restart"`
	// Keys, on a restart-server step, are the settings whose live value
	// differs on that server.
	Keys []string `json:"keys,omitempty"`
}

// Rollout is a rolling update gated per Pod.
type Rollout struct {
	StatefulSet string `json:"statefulset"`
	// Pods in the order apply gates them: highest ordinal first.
	Pods []string `json:"pods"`
	// Servers gates each Pod on its Neo4j server as well (Enterprise with
	// the Neo4j plane observed).
	Servers bool `json:"servers,omitempty"`
	// PodAddresses maps each Pod to the address its server advertises,
	// where the layout does not derive it from the Pod's name (a cluster
	// adopted from the Helm chart: <release>.<namespace>.svc): the gate
	// finds the Pod's server by it.
	PodAddresses map[string]string `json:"pod_addresses,omitempty"`
}

// DryRun is Neo4j's answer to a DRYRUN statement: the allocations the real
// statement would move (Operations Manual, clustering/servers.adoc,
// "Deallocating databases from a server").
type DryRun struct {
	Statement string       `json:"statement"`
	Moves     []state.Move `json:"moves"`
}

// FieldDiff is one changed field of an object. All of it is display only.
type FieldDiff struct {
	// Path is dotted, with list elements keyed like managedFields:
	// spec.template.spec.containers[name=neo4j].image.
	Path   string
	Before any
	After  any
	// Hunks is a unified diff of long or multi-line strings.
	Hunks string
	// Manager is who changed the field out of band (not neo4jctl).
	Manager string
	// Sensitive marks a redacted value: Before and After are "(sensitive)".
	Sensitive bool
	// ForcesReplacement marks an immutable field.
	ForcesReplacement bool
}

// Summary counts the plan. Replace counts as one add and one destroy.
type Summary struct {
	Add          int
	Change       int
	Destroy      int
	Neo4jSteps   int
	Irreversible int
}

// Refusal is a change the plan will not make, with what to do about it.
type Refusal struct {
	Address string
	Reason  string
	Fix     string
}

// UnknownPlane is a plane that could not be observed.
type UnknownPlane struct {
	Plane  string // "kubernetes" or "neo4j"
	Reason string
}

// Conflict is a field another Apply-operation manager owns.
type Conflict struct {
	Address string
	Field   string
	Manager string
}

// Sensitive is what every redacted value is replaced with.
const Sensitive = "(sensitive)"

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool { return p != nil && len(p.Steps) > 0 }

// Applicable reports whether apply may run the plan.
func (p *Plan) Applicable() bool {
	return p != nil && !p.Incomplete && len(p.Refusals) == 0
}

// Step returns the step with the given ID, or nil.
func (p *Plan) Step(id string) *Step {
	for i := range p.Steps {
		if p.Steps[i].ID == id {
			return &p.Steps[i]
		}
	}
	return nil
}

func summarize(steps []Step) Summary {
	var s Summary
	for _, st := range steps {
		switch st.Action {
		case ActionCreate:
			s.Add++
		case ActionUpdate:
			s.Change++
		case ActionDelete:
			s.Destroy++
		case ActionReplace:
			s.Add++
			s.Destroy++
		case ActionNeo4j:
			s.Neo4jSteps++
		}
		if st.Irreversible {
			s.Irreversible++
		}
	}
	return s
}
