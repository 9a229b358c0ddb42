package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// outcome is what a step reports besides its error.
type outcome struct {
	// wrote: something may have changed (also for a failed write: its
	// effect is unknown).
	wrote bool
	// unchanged: nothing needed sending.
	unchanged bool
	note      string
}

// rereadTimeout bounds the re-read after a statement sent once failed,
// also after Ctrl-C: apply must learn whether it took effect before it
// stops.
const rereadTimeout = 30 * time.Second

func (e *Executor) run(ctx context.Context, t Target, s plan.Step, objs map[string]*unstructured.Unstructured) (outcome, error) {
	switch s.Kind {
	case plan.KindApply:
		o, err := e.applyObject(ctx, s, objs[s.ID])
		if err != nil || s.Action != plan.ActionCreate || s.Object == nil || s.Object.Kind != "StatefulSet" || e.Options.NoRolloutWait {
			return o, err
		}
		// A new StatefulSet: wait for its Pods, so the server steps that
		// follow find them and the user sees the rollout's progress. A
		// changed one is waited for by its rolling-update step.
		return o, e.waitStatefulSet(ctx, s, replicasOf(objs[s.ID]))
	case plan.KindScaleStatefulSet:
		o, err := e.applyObject(ctx, s, objs[s.ID])
		if err != nil {
			return o, err
		}
		return o, e.waitStatefulSet(ctx, s, int(*s.Replicas))
	case plan.KindDelete:
		return e.deleteObject(ctx, s)
	case plan.KindDeleteClaim:
		return e.deleteClaim(ctx, t, s)
	case plan.KindDeleteVerification:
		return e.deleteVerification(ctx, t, s)
	case plan.KindReplace:
		return e.replaceObject(ctx, s, objs[s.ID])
	case plan.KindResizeClaim:
		return e.resizeClaim(ctx, s)
	case plan.KindRollingUpdate:
		return e.rollingUpdate(ctx, t, s)
	case plan.KindUpgradePreflight:
		return e.upgradePreflight(ctx, s)
	case plan.KindUpgradeVerify:
		return e.upgradeVerify(ctx, s)
	case plan.KindDiscoveryMove:
		return e.discoveryMove(ctx, s)
	case plan.KindDiscoveryVerify:
		return e.discoveryVerify(ctx, s)
	case plan.KindReloadTLS:
		return e.reloadTLS(ctx, s)
	case plan.KindSetConfigValue:
		return e.setConfigValue(ctx, t, s)
	case plan.KindRestartServer:
		return e.restartServer(ctx, t, s)
	case plan.KindSetSetting:
		return outcome{unchanged: true, note: "changes through the ConfigMap and the rolling restart; verified by the fresh plan"}, nil
	case plan.KindWaitServerFree:
		return e.waitServerFree(ctx, s)
	case plan.KindEnableServer:
		return e.enableServer(ctx, s)
	case plan.KindAlterServer:
		return e.alterServer(ctx, s)
	case plan.KindWaitServerEnabled:
		return outcome{}, e.waitServer(ctx, s, "Enabled and Available", func(srv state.Server) bool {
			return srv.State == state.ServerEnabled && srv.Health == state.HealthAvailable
		})
	case plan.KindRenameServer:
		return e.renameServer(ctx, s)
	case plan.KindReallocate:
		return e.reallocate(ctx, s)
	case plan.KindWaitDatabasesOnline:
		return outcome{}, e.waitDatabasesOnline(ctx, s)
	case plan.KindCordon:
		return e.cordon(ctx, s)
	case plan.KindDeallocate:
		return e.deallocate(ctx, s)
	case plan.KindWaitDeallocated:
		// Hosting only system is not enough: DROP SERVER also needs the
		// state to have moved on to Deallocated, which Neo4j reports a
		// moment later.
		return outcome{}, e.waitServer(ctx, s, "Deallocated (hosting only system)", func(srv state.Server) bool {
			switch {
			case srv.State == state.ServerDropped || (srv.State == state.ServerDeallocated && onlySystem(srv.Hosting)):
				return true
			case srv.Health != state.HealthAvailable && deallocatingState(srv.State) && onlySystem(srv.RequestedHosting):
				// A lost server cannot report its databases stopped: once
				// Neo4j no longer asks it to host any, the disaster-recovery
				// path drops it, Deallocating or Deallocated (Operations
				// Manual, clustering/disaster-recovery, "Make servers
				// available": "For each deallocating or deallocated server,
				// run DROP SERVER").
				return true
			}
			return false
		})
	case plan.KindDropServer:
		return e.dropServer(ctx, s)
	case plan.KindCreateDatabase:
		return e.createDatabase(ctx, s)
	case plan.KindDropDatabase:
		return e.dropDatabase(ctx, s)
	case plan.KindWaitDatabaseOnline:
		return outcome{}, e.waitDatabaseOnline(ctx, s)
	case plan.KindAlterTopology:
		if s.Database == nil {
			return outcome{}, errors.New("the step names no database")
		}
		topo := neo4j.Topology{Primaries: int(s.Database.Primaries), Secondaries: int(s.Database.Secondaries)}
		return e.neo4jWrite(ctx, "ALTER DATABASE SET TOPOLOGY", topologyIs(s.Database.Name, topo), func(c Neo4j) error {
			return c.AlterDatabaseTopology(ctx, s.Database.Name, topo)
		})
	case plan.KindAlterAccess:
		if s.Database == nil {
			return outcome{}, errors.New("the step names no database")
		}
		ro := s.Database.Access == "read-only"
		return e.neo4jWrite(ctx, "ALTER DATABASE SET ACCESS", accessIs(s.Database.Name, ro), func(c Neo4j) error {
			return c.AlterDatabaseAccess(ctx, s.Database.Name, ro)
		})
	}
	return outcome{}, fmt.Errorf("this neo4jctl does not know how to run a %q step; upgrade neo4jctl", s.Kind)
}

// --- Kubernetes steps ---

func (e *Executor) applyObject(ctx context.Context, s plan.Step, o *unstructured.Unstructured) (outcome, error) {
	if o == nil {
		return outcome{}, fmt.Errorf("no rendered object for %s", s.Address)
	}
	o = e.desiredObject(s, o)
	e.remember(s.Address, o)
	e.setRolledOut(s.Address, false)
	if s.Partition != nil {
		o = withPartition(o, *s.Partition)
	}
	_, err := e.Kube.Apply(ctx, o, e.Options.ForceConflicts)
	var ce *kube.ConflictError
	if errors.As(err, &ce) {
		// Nothing was written: the API server refused the whole request.
		return outcome{}, err
	}
	if err != nil {
		return outcome{wrote: true}, err
	}
	return outcome{wrote: true}, nil
}

func (e *Executor) deleteObject(ctx context.Context, s plan.Step) (outcome, error) {
	if s.Object == nil {
		return outcome{}, fmt.Errorf("the step names no object")
	}
	err := e.Kube.Delete(ctx, refOf(s.Object))
	return outcome{wrote: true}, err
}

// replaceObject deletes the object and applies it again; the new object is
// applied until the old one is gone (a finalizer can keep it a moment).
func (e *Executor) replaceObject(ctx context.Context, s plan.Step, o *unstructured.Unstructured) (outcome, error) {
	if s.Object == nil || o == nil {
		return outcome{}, fmt.Errorf("the step names no object")
	}
	if s.Object.Kind == "StatefulSet" {
		return e.replaceStatefulSet(ctx, s, o)
	}
	if err := e.Kube.Delete(ctx, refOf(s.Object)); err != nil {
		return outcome{wrote: true}, err
	}
	err := e.poll(ctx, s, "the old "+s.Object.Kind+" to be gone", func(ctx context.Context) (bool, string, error) {
		_, err := e.Kube.Apply(ctx, o, e.Options.ForceConflicts)
		switch {
		case err == nil:
			return true, "", nil
		case strings.Contains(err.Error(), "being deleted") || strings.Contains(err.Error(), "already exists"):
			return false, "the old object is still being deleted", nil
		}
		return false, "", err
	})
	if err == nil && s.Object.Kind == "StatefulSet" {
		err = e.waitStatefulSet(ctx, s, replicasOf(o))
	}
	return outcome{wrote: true}, err
}

func refOf(o *plan.ObjectRef) kube.Ref {
	return kube.Ref{Group: o.Group, Version: o.Version, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

func (e *Executor) stsName(s plan.Step) (ns, name string) {
	if s.Object != nil {
		return s.Object.Namespace, s.Object.Name
	}
	if s.Rollout != nil {
		return "", s.Rollout.StatefulSet
	}
	return "", ""
}

// waitStatefulSet waits for the rollout with progress every ProgressEvery.
func (e *Executor) waitStatefulSet(ctx context.Context, s plan.Step, want int) error {
	ns, name := e.stsName(s)
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	pr := e.startProgress(s, fmt.Sprintf("StatefulSet %s/%s (0/%d ready)", ns, name, want))
	defer pr.stop()
	err := e.Kube.WaitStatefulSet(ctx, ns, name, want, func(ready, want int) {
		pr.set(fmt.Sprintf("StatefulSet %s/%s (%d/%d ready)", ns, name, ready, want))
	})
	if err == nil {
		e.setRolledOut(s.Address, true)
	}
	return e.timeoutError(ctx, err, pr)
}

func ordinalOf(pod string) int {
	i := strings.LastIndex(pod, "-")
	n := 0
	if i < 0 {
		return -1
	}
	for _, c := range pod[i+1:] {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// replicasOf reads spec.replicas (1, the API server's default, when unset).
func replicasOf(o *unstructured.Unstructured) int {
	v, ok, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", "replicas")
	if !ok {
		return 1
	}
	switch n := v.(type) {
	case int64:
		return int(n)
	case int32:
		return int(n)
	case int:
		return n
	case float64:
		return int(n)
	}
	return 1
}
