package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// DestroyFormatVersion is the version of DestroyPlan's JSON form.
const DestroyFormatVersion = "1"

// Phase orders a destroy: every step of a phase runs before any step of
// the next. The order is what lets a rerun finish an interrupted destroy
// and what keeps data until last: the servers stop first (nothing writes
// to a claim once its Pod is gone), then what only served them, then the
// claims (only with --delete-data), and the inventory at the very end, so
// that until then a rerun still finds every member left.
type Phase string

// The phases, in execution order.
const (
	// PhaseBackup is a backup of every database before anything is
	// deleted: planned when the cluster file configures backups
	// (DestroyInput.Backups) and --skip-backup is not given.
	PhaseBackup    Phase = "backup"
	PhaseWorkloads Phase = "workloads"
	PhaseConfig    Phase = "services-and-config"
	// PhaseVerification deletes the backup verification objects
	// (manifests/verify.go): the scratch namespace, with everything in it,
	// and the Role and RoleBinding in the cluster's namespace. They are no
	// ApplySet members (the scratch namespace is another namespace), and
	// hold no data: verification results are in the backup catalogue.
	PhaseVerification Phase = "verification"
	PhaseData         Phase = "data"
	PhaseInventory    Phase = "inventory"
)

var phaseOrder = map[Phase]int{PhaseBackup: 0, PhaseWorkloads: 1, PhaseConfig: 2, PhaseVerification: 3, PhaseData: 4, PhaseInventory: 5}

// Step actions.
const (
	ActionDelete      = "delete"
	ActionDeleteClaim = "delete-claim"
	ActionBackup      = "backup"
	ActionDeleteInv   = "delete-inventory"
	// ActionDeleteVerification deletes a backup verification object after
	// checking its labels (it carries no neo4jctl.io/cluster label, so
	// prune's check does not apply).
	ActionDeleteVerification = "delete-verification"
)

// workloadKinds run Pods: deleted first, so no server is left writing while
// the rest goes.
var workloadKinds = map[string]bool{
	"apps/StatefulSet": true, "apps/Deployment": true, "apps/DaemonSet": true, "apps/ReplicaSet": true,
	"batch/Job": true, "batch/CronJob": true,
}

// DestroyStep is one deletion. Every field drives execution except
// Address, which is for display and matching.
type DestroyStep struct {
	Phase     Phase  `json:"phase"`
	Action    string `json:"action"`
	Address   string `json:"address"`
	Group     string `json:"group,omitempty"`
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// UID is the observed object's: a delete of anything else (replaced
	// since the plan) is refused.
	UID string `json:"uid,omitempty"`
}

// ClaimFate says what destroy does to one claim.
type ClaimFate struct {
	Name        string `json:"name"`
	StatefulSet string `json:"statefulSet"`
	Ordinal     int    `json:"ordinal"`
	Capacity    string `json:"capacity,omitempty"`
	// Action is "keep" (the default) or "delete" (--delete-data).
	Action string `json:"action"`
}

// BackupFate says what destroy does about backups. Backups already taken
// are never deleted by destroy: they live outside the cluster.
type BackupFate struct {
	// Configured is set when the cluster file configures backups.
	Configured bool `json:"configured"`
	// BackupFirst is set when destroy takes a backup before deleting.
	BackupFirst bool `json:"backupFirst"`
	// Skipped is set when --skip-backup waived the backup-first step.
	Skipped bool   `json:"skipped,omitempty"`
	Note    string `json:"note"`
}

// Survivor is an object carrying the cluster's labels that destroy keeps,
// with the reason.
type Survivor struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
}

// Refusal stops a destroy before anything is deleted.
type Refusal struct {
	Reason string `json:"reason"`
	Fix    string `json:"fix"`
}

// DestroyPlan is everything `neo4jctl destroy` will do, computed from the
// inventory only: the objects neo4jctl applied (ApplySet members it wrote),
// never a label query.
type DestroyPlan struct {
	FormatVersion string `json:"format_version"`
	Cluster       string `json:"cluster"`
	Namespace     string `json:"namespace"`
	// InventoryFound is false when there is nothing neo4jctl applied left
	// (never applied, or destroyed already).
	InventoryFound bool `json:"inventoryFound"`
	// Steps run in this order (phases, then address).
	Steps     []DestroyStep `json:"steps"`
	Claims    []ClaimFate   `json:"claims"`
	Backups   BackupFate    `json:"backups"`
	Survivors []Survivor    `json:"survivors,omitempty"`
	Refusals  []Refusal     `json:"refusals,omitempty"`
	// DeleteData is --delete-data: the claims are deleted, which needs the
	// cluster's name typed (ConfirmName), never --auto-approve alone.
	DeleteData  bool   `json:"deleteData"`
	ConfirmName string `json:"confirmName"`
}

// DestroyInput is what ComputeDestroy needs.
type DestroyInput struct {
	Cluster   string
	Namespace string
	Observed  kube.DestroyObservation
	// Backups is set when the cluster file configures backups
	// (spec.backups): a backup-first step is planned unless SkipBackup.
	Backups    bool
	SkipBackup bool
	DeleteData bool
	// Verification are the cluster's backup verification objects that
	// neo4jctl applied (pipeline.Runner.VerificationMembers).
	Verification []state.Object
}

// ComputeDestroy plans a destroy. It is pure.
func ComputeDestroy(in DestroyInput) *DestroyPlan {
	p := &DestroyPlan{
		FormatVersion: DestroyFormatVersion, Cluster: in.Cluster, Namespace: in.Namespace,
		InventoryFound: in.Observed.InventoryFound, DeleteData: in.DeleteData, ConfirmName: in.Cluster,
		Steps: []DestroyStep{}, Claims: []ClaimFate{},
	}
	p.Backups = BackupFate{Configured: in.Backups, Note: "backups already taken are kept: destroy never deletes them"}
	switch {
	case in.Backups && in.SkipBackup:
		p.Backups.Skipped = true
		p.Backups.Note = "no backup before destroy (--skip-backup); " + p.Backups.Note
	case in.Backups && in.Observed.InventoryFound:
		p.Backups.BackupFirst = true
		p.Backups.Note = "a full backup of every database is taken first, as neo4jctl backup create does, and nothing is deleted if it fails (--skip-backup leaves it out); " + p.Backups.Note
		p.Steps = append(p.Steps, DestroyStep{Phase: PhaseBackup, Action: ActionBackup, Address: "neo4j:database/*", Namespace: in.Namespace, Name: in.Cluster})
	case !in.Backups:
		p.Backups.Note = "the cluster file configures no backups, so none is taken first; " + p.Backups.Note
	}

	deletesClaims := false
	for _, o := range in.Observed.Members {
		ph := PhaseConfig
		if workloadKinds[o.Group+"/"+o.Kind] {
			ph = PhaseWorkloads
		}
		if o.Kind == "StatefulSet" && whenDeletedDelete(o.Live) {
			deletesClaims = true
		}
		p.Steps = append(p.Steps, DestroyStep{Phase: ph, Action: ActionDelete, Address: o.Address,
			Group: o.Group, Version: o.Version, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: o.UID})
	}
	for _, o := range in.Verification {
		p.Steps = append(p.Steps, DestroyStep{Phase: PhaseVerification, Action: ActionDeleteVerification, Address: o.Address,
			Group: o.Group, Version: o.Version, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: o.UID})
	}
	for _, c := range in.Observed.Claims {
		f := ClaimFate{Name: c.Name, StatefulSet: c.StatefulSet, Ordinal: c.Ordinal, Capacity: c.Capacity, Action: "keep"}
		if in.DeleteData {
			f.Action = "delete"
			p.Steps = append(p.Steps, DestroyStep{Phase: PhaseData, Action: ActionDeleteClaim,
				Address: kube.Address(claimGVK, c.Namespace, c.Name), Version: "v1", Kind: "PersistentVolumeClaim",
				Namespace: c.Namespace, Name: c.Name, UID: c.UID})
		}
		p.Claims = append(p.Claims, f)
	}
	if deletesClaims && !in.DeleteData {
		p.Refusals = append(p.Refusals, Refusal{
			Reason: "a StatefulSet's persistentVolumeClaimRetentionPolicy is whenDeleted: Delete, so deleting it would delete its claims (the data) too",
			Fix:    "set spec.storage.retention.whenDeleted: Retain and apply first to keep the data, or pass --delete-data to delete it",
		})
	}
	if in.Observed.InventoryFound {
		inv := kube.InventoryRef{Namespace: in.Namespace, Cluster: in.Cluster}
		p.Steps = append(p.Steps, DestroyStep{Phase: PhaseInventory, Action: ActionDeleteInv,
			Address: kube.Address(configMapGVK, in.Namespace, inv.ParentName()), Version: "v1", Kind: "ConfigMap",
			Namespace: in.Namespace, Name: inv.ParentName()})
	}
	for _, o := range in.Observed.Foreign {
		p.Survivors = append(p.Survivors, Survivor{Address: o.Address,
			Reason: "labelled into the cluster's ApplySet, but not applied by neo4jctl (no neo4jctl field manager, or another namespace): kept"})
	}
	sort.SliceStable(p.Steps, func(i, j int) bool {
		a, b := p.Steps[i], p.Steps[j]
		if phaseOrder[a.Phase] != phaseOrder[b.Phase] {
			return phaseOrder[a.Phase] < phaseOrder[b.Phase]
		}
		return a.Address < b.Address
	})
	return p
}

// whenDeletedDelete reports whether a live StatefulSet deletes its claims
// when it is deleted (the StatefulSet controller then owns them and the
// garbage collector takes them with it).
func whenDeletedDelete(live map[string]any) bool {
	spec, _ := live["spec"].(map[string]any)
	pol, _ := spec["persistentVolumeClaimRetentionPolicy"].(map[string]any)
	return pol["whenDeleted"] == "Delete"
}

// Deletes counts the objects the plan deletes (the inventory included).
func (p *DestroyPlan) Deletes() int {
	n := 0
	for _, s := range p.Steps {
		if s.Action != ActionBackup {
			n++
		}
	}
	return n
}

// KeptClaims counts the claims the plan keeps.
func (p *DestroyPlan) KeptClaims() int {
	n := 0
	for _, c := range p.Claims {
		if c.Action == "keep" {
			n++
		}
	}
	return n
}

// Empty reports whether there is nothing to delete.
func (p *DestroyPlan) Empty() bool { return p.Deletes() == 0 }

// DestroyKube is the part of the Kubernetes client destroy uses. Each
// delete re-checks on the live object that it is neo4jctl's and the one
// observed (its UID), and takes an object already gone as done.
type DestroyKube interface {
	Delete(ctx context.Context, ref kube.Ref) error
	DeleteClaim(ctx context.Context, ns, name, cluster, uid string) error
	DeleteInventory(ctx context.Context, inv kube.InventoryRef) error
}

// verifyDeleter deletes a backup verification object by its labels
// (*kube.Client.DeleteLabelled).
type verifyDeleter interface {
	DeleteLabelled(ctx context.Context, ref kube.Ref, owned func(map[string]string) bool) error
}

// DestroyHook is told about each step.
type DestroyHook interface {
	DestroyStepStarted(s DestroyStep)
	DestroyStepDone(s DestroyStep, err error)
}

// ErrNoBackup is returned when a plan has a backup step and the executor
// was given no way to take one.
var ErrNoBackup = errors.New("the plan takes a backup first, but this build cannot take one: pass --skip-backup to destroy without it")

// Destroyer executes a DestroyPlan.
type Destroyer struct {
	Kube DestroyKube
	Hook DestroyHook
	// Backup takes a backup of every database (the backup-first step).
	Backup func(ctx context.Context) error
}

// Execute runs the plan's steps in order and stops at the first failure:
// each phase depends on the one before (claims go only once their servers
// are gone, the inventory only once everything it lists is). Every step is
// idempotent, so rerunning destroy finishes an interrupted one.
func (d *Destroyer) Execute(ctx context.Context, p *DestroyPlan) error {
	if len(p.Refusals) > 0 {
		return fmt.Errorf("destroy refused: %s (%s)", p.Refusals[0].Reason, p.Refusals[0].Fix)
	}
	for _, s := range p.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Hook != nil {
			d.Hook.DestroyStepStarted(s)
		}
		err := d.run(ctx, p, s)
		if d.Hook != nil {
			d.Hook.DestroyStepDone(s, err)
		}
		if err != nil {
			return fmt.Errorf("%s: %w; run destroy again to finish", s.Address, err)
		}
	}
	return nil
}

func (d *Destroyer) run(ctx context.Context, p *DestroyPlan, s DestroyStep) error {
	switch s.Action {
	case ActionBackup:
		if d.Backup == nil {
			return ErrNoBackup
		}
		return d.Backup(ctx)
	case ActionDelete:
		return d.Kube.Delete(ctx, kube.Ref{Group: s.Group, Version: s.Version, Kind: s.Kind, Namespace: s.Namespace, Name: s.Name, UID: s.UID})
	case ActionDeleteClaim:
		if !p.DeleteData {
			return errors.New("a claim delete in a plan without --delete-data")
		}
		return d.Kube.DeleteClaim(ctx, s.Namespace, s.Name, p.Cluster, s.UID)
	case ActionDeleteVerification:
		vd, ok := d.Kube.(verifyDeleter)
		if !ok {
			return errors.New("this destroy cannot delete backup verification objects")
		}
		return vd.DeleteLabelled(ctx, kube.Ref{Group: s.Group, Version: s.Version, Kind: s.Kind, Namespace: s.Namespace, Name: s.Name, UID: s.UID},
			func(labels map[string]string) bool {
				return manifests.IsVerifyObject(labels, p.Cluster, p.Namespace) || manifests.IsDrillObject(labels, p.Cluster, p.Namespace)
			})
	case ActionDeleteInv:
		return d.Kube.DeleteInventory(ctx, kube.InventoryRef{Namespace: p.Namespace, Cluster: p.Cluster})
	}
	return fmt.Errorf("unknown destroy action %q", s.Action)
}

var (
	claimGVK     = kube.Ref{Version: "v1", Kind: "PersistentVolumeClaim"}.GVK()
	configMapGVK = kube.Ref{Version: "v1", Kind: "ConfigMap"}.GVK()
)
