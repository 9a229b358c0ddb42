package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Settings steps (plan/settings.go): a dynamic setting set on one server
// with dbms.setConfigValue, and the restart of one server whose live
// settings differ from its unchanged configuration.

// podRestarter evicts one server Pod (its StatefulSet recreates it);
// *kube.Client has it.
type podRestarter interface {
	RestartPod(ctx context.Context, ns, name string, inv kube.InventoryRef) error
}

var _ podRestarter = (*kube.Client)(nil)

// configSetter is the per-server procedure call; *neo4j.Client has it.
// It is asked for by assertion so the Neo4j interface (and its fakes)
// need not grow for it.
type configSetter interface {
	SetConfigValue(ctx context.Context, address, key, value string) error
}

// setConfigValue runs CALL dbms.setConfigValue on the step's server. The
// value is read from the rendered dynamic settings' ConfigMap, not from
// the plan, which never holds it (it may be a credential).
func (e *Executor) setConfigValue(ctx context.Context, t Target, s plan.Step) (outcome, error) {
	if s.Server == nil || s.Setting == nil || s.Server.PodAddress == "" {
		return outcome{}, errors.New("the step names no server address or setting")
	}
	value, ok := renderedSetting(t, s.Setting.Key)
	if !ok {
		return outcome{}, fmt.Errorf("%s is not in the rendered dynamic settings' ConfigMap", s.Setting.Key)
	}
	return e.neo4jWrite(ctx, "CALL dbms.setConfigValue", settingUnseen, func(c Neo4j) error {
		cs, ok := c.(configSetter)
		if !ok {
			return errors.New("this Neo4j connection cannot run a procedure on one server")
		}
		return cs.SetConfigValue(ctx, s.Server.PodAddress, s.Setting.Key, value)
	})
}

// renderedSetting finds key in the dynamic.conf of the rendered objects.
func renderedSetting(t Target, key string) (string, bool) {
	for _, o := range t.Objects {
		if o.GetKind() != "ConfigMap" {
			continue
		}
		data, _, _ := unstructured.NestedString(o.Object, "data", "dynamic.conf")
		for _, line := range strings.Split(data, "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && k == key {
				return v, true
			}
		}
	}
	return "", false
}

// restartServer deletes the server's Pod, once the cluster can lose it,
// and waits for it through the roll gate the rolling update uses
// (healthcheck.CanLose and ServerBack): the StatefulSet recreates the Pod,
// it is updated and Ready, and its server is back (Enabled, Available,
// hosting what it should) before the next step.
func (e *Executor) restartServer(ctx context.Context, t Target, s plan.Step) (outcome, error) {
	if s.Server == nil || s.Server.StatefulSet == "" {
		return outcome{}, errors.New("the step names no server Pod")
	}
	pod := fmt.Sprintf("%s-%d", s.Server.StatefulSet, s.Server.Ordinal)
	r, ok := e.Kube.(podRestarter)
	if !ok {
		return outcome{}, errors.New("this Kubernetes client cannot restart a Pod")
	}
	// The same gate as a rolling restart: only when the cluster can lose it.
	if err := e.waitCanLose(ctx, s, pod); err != nil {
		return outcome{}, fmt.Errorf("%w; %s was not restarted: make the cluster whole again and run apply again", err, pod)
	}
	e.hook().StepProgress(s, "Restarting "+pod)
	if err := r.RestartPod(ctx, t.Namespace, pod, t.Inventory); err != nil {
		return outcome{}, err
	}
	o := outcome{wrote: true}
	gate := s
	gate.Rollout = &plan.Rollout{StatefulSet: s.Server.StatefulSet, Pods: []string{pod}, Servers: true}
	if err := e.waitPodUpdated(ctx, gate, t.Namespace, pod); err != nil {
		return o, err
	}
	return o, e.waitServerBack(ctx, s, pod)
}

// settingUnseen is the effect check of a setConfigValue whose answer never
// came: SHOW SERVERS and SHOW DATABASES, which are read again, do not show
// settings, so the step fails saying so; setting a dynamic setting again is
// harmless, and the next plan compares each server's SHOW SETTINGS.
func settingUnseen(known) (bool, string) {
	return false, "settings are not in SHOW SERVERS or SHOW DATABASES; the next plan reads each server's SHOW SETTINGS"
}
