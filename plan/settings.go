package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/state"
)

// Settings are per server in Neo4j: each server reads its neo4j.conf when
// it starts, and CALL dbms.setConfigValue "affects only the cluster member
// it is run against" (Operations Manual 5.26,
// configuration/dynamic-settings.adoc). So the desired settings (the
// cluster file's spec.config) are compared with what each server reports
// (SHOW SETTINGS over a direct connection, state.Neo4j.ServerSettings),
// with clusterfile.SameSettingValue — the one comparison plan, drift and
// policies share — and:
//
//   - a dynamic setting that differs on a server is set on that server
//     with dbms.setConfigValue, after its ConfigMap (which the server reads
//     when it next starts) is applied: no restart;
//   - a restart setting that differs while its ConfigMap revision changes
//     is shown with the rolling restart that brings it in;
//   - a restart setting that differs on a server while the configuration
//     is unchanged (the server restarted with an out-of-band ConfigMap, or
//     has not restarted since one) gets that server's own restart, one
//     server at a time through the roll gate — never a cluster-wide roll;
//   - an initial.* setting is read only when the cluster or a server is
//     first created: a difference is reported and changes nothing.

// liveSetting is one server's view of a setting.
type liveSetting struct {
	server state.Server
	set    state.Setting
	ok     bool
}

// serverSettings returns, per server that could be asked, its live value
// of key. Without per-server observations it falls back to the one
// server the plan's connection reached, as every server's value.
func (b *builder) serverSettings(key string) []liveSetting {
	var out []liveSetting
	if len(b.n.ServerSettings) > 0 {
		for id, set := range b.n.ServerSettings {
			srv, ok := b.n.Servers[id]
			if !ok {
				continue
			}
			s, ok := set[key]
			out = append(out, liveSetting{server: srv, set: s, ok: ok})
		}
	} else if s, ok := b.n.Settings[key]; ok {
		for _, srv := range b.n.Servers {
			if srv.State == state.ServerEnabled || srv.State == state.ServerCordoned {
				out = append(out, liveSetting{server: srv, set: s, ok: true})
			}
		}
		if len(b.n.Servers) == 0 {
			out = append(out, liveSetting{set: s, ok: true})
		}
	}
	b.sortByPod(out)
	return out
}

// sortByPod orders servers by StatefulSet, then highest ordinal first (the
// order a roll takes), servers without a Pod last by id.
func (b *builder) sortByPod(ls []liveSetting) {
	pod := b.podOf()
	sort.Slice(ls, func(i, j int) bool {
		pi, iok := pod[ls[i].server.ID]
		pj, jok := pod[ls[j].server.ID]
		switch {
		case iok != jok:
			return iok
		case iok && pi.sts != pj.sts:
			return pi.sts < pj.sts
		case iok && pi.ord != pj.ord:
			return pi.ord > pj.ord
		}
		return ls[i].server.ID < ls[j].server.ID
	})
}

type podRef struct {
	sts string
	ord int
}

// podOf maps serverIds to the Pod each runs in.
func (b *builder) podOf() map[string]podRef {
	out := map[string]podRef{}
	for sts, m := range b.byPod {
		for ord, srv := range m {
			out[srv.ID] = podRef{sts, ord}
		}
	}
	return out
}

// dynamicConfigMap is the name manifests gives the dynamic settings'
// ConfigMap (manifests.DynamicConfigMapName; plan does not import
// manifests).
func (b *builder) dynamicConfigMap() string {
	if b.d.Cluster == nil {
		return ""
	}
	return b.d.Cluster.Metadata.Name + "-config-dynamic"
}

func (b *builder) settings(config, rollouts []*draft) {
	if !b.neoKnown || len(b.d.Settings) == 0 {
		return
	}
	var restartCMs, dynamicCMs []*draft
	for _, dr := range config {
		if dr.Object == nil || dr.Object.Kind != "ConfigMap" {
			continue
		}
		if dr.Object.Name == b.dynamicConfigMap() {
			dynamicCMs = append(dynamicCMs, dr)
		} else if dr.Action != ActionDelete {
			restartCMs = append(restartCMs, dr)
		}
	}
	pod := b.podOf()
	restartKeys := map[string][]string{} // serverId → restart keys that differ
	servers := map[string]state.Server{}
	var lastSet *draft
	for _, key := range sortedKeys(b.d.Settings) {
		want := b.d.Settings[key]
		var differ []liveSetting
		for _, l := range b.serverSettings(key) {
			if l.ok && !clusterfile.SameSettingValue(want, l.set.Value) {
				differ = append(differ, l)
			}
		}
		if len(differ) == 0 {
			continue
		}
		addr := "neo4j:setting/" + key
		if clusterfile.InitialSetting(key) {
			b.warn("%s is %q on the servers but %q in the cluster file: initial.* settings are read only when the cluster (or a server) is first created, so the change applies to new clusters and rolls no server.",
				addr, redactSetting(key, differ[0].set.Value), redactSetting(key, want))
			continue
		}
		dynamic := clusterfile.DynamicSetting(b.d.Cluster, key)
		if dynamic && !differ[0].set.Dynamic {
			// The server knows better than the 5.26 table (a later
			// version made it static): restart instead.
			b.warn("%s is dynamic in Neo4j 5.26 but the servers report it is not; it changes with a restart.", addr)
			dynamic = false
		}
		if dynamic {
			for i, l := range differ {
				srv := l.server
				step := &ServerStep{ServerID: srv.ID, Name: displayName(srv, ""), PodAddress: srv.Address}
				if p, ok := pod[srv.ID]; ok {
					step.StatefulSet, step.Ordinal = p.sts, p.ord
				}
				deps := append([]*draft{}, dynamicCMs...)
				if lastSet != nil {
					deps = append(deps, lastSet)
				}
				lastSet = b.add(&draft{Step: Step{Address: addr, Action: ActionUpdate, Kind: KindSetConfigValue,
					Reason: "dynamic: set on " + step.Name + " with dbms.setConfigValue, no restart",
					Before: redactSetting(key, l.set.Value), After: redactSetting(key, want), Server: step,
					Setting: &SettingStep{Key: key, Dynamic: true}},
					stage: stageSettings, sortKey: fmt.Sprintf("%s/%04d", key, i), deps: deps})
			}
			continue
		}
		if len(restartCMs) > 0 || len(rollouts) > 0 {
			// A new revision, or a rolling restart an earlier apply
			// left halfway: the roll brings the setting in.
			b.add(&draft{Step: Step{Address: addr, Action: ActionUpdate, Kind: KindSetSetting,
				Reason: "takes effect when the servers restart with the new ConfigMap",
				Before: redactSetting(key, differ[0].set.Value), After: redactSetting(key, want),
				Setting: &SettingStep{Key: key, NeedsRestart: true}},
				stage: stageSettings, sortKey: key, deps: append(append([]*draft{}, restartCMs...), rollouts...)})
			continue
		}
		for _, l := range differ {
			if l.server.ID == "" {
				b.warn("%s is %q on the server but %q in the cluster file and its ConfigMap; the server has not restarted since, or it was changed at runtime.",
					addr, redactSetting(key, l.set.Value), redactSetting(key, want))
				continue
			}
			restartKeys[l.server.ID] = append(restartKeys[l.server.ID], key)
			servers[l.server.ID] = l.server
		}
	}
	b.restartServers(restartKeys, servers, pod, rollouts)
}

// restartServers plans the restart of each server whose restart settings
// differ from its unchanged configuration, one after the other, highest
// ordinal first.
func (b *builder) restartServers(keys map[string][]string, servers map[string]state.Server, pod map[string]podRef, after []*draft) {
	var ls []liveSetting
	for id := range keys {
		ls = append(ls, liveSetting{server: servers[id]})
	}
	b.sortByPod(ls)
	prev := after
	for _, l := range ls {
		srv := l.server
		p, ok := pod[srv.ID]
		if !ok {
			b.warn("server %s runs with settings (%s) its configuration does not hold, but belongs to no Pod of the cluster: restart it by hand.",
				displayName(srv, ""), strings.Join(keys[srv.ID], ", "))
			continue
		}
		podName := fmt.Sprintf("%s-%d", p.sts, p.ord)
		dr := b.add(&draft{Step: Step{Address: "neo4j:server/" + srv.ID, Action: ActionUpdate, Kind: KindRestartServer,
			Reason: fmt.Sprintf("runs with %s other than its ConfigMap holds (restarted with another configuration?): restart Pod %s alone",
				strings.Join(keys[srv.ID], ", "), podName),
			Server:  &ServerStep{ServerID: srv.ID, Name: displayName(srv, ""), PodAddress: srv.Address, StatefulSet: p.sts, Ordinal: p.ord},
			Setting: &SettingStep{Key: keys[srv.ID][0], NeedsRestart: true, Keys: keys[srv.ID]}},
			stage: stageSettings, sortKey: fmt.Sprintf("%s/%06d", p.sts, 999999-p.ord), deps: prev})
		prev = []*draft{dr}
	}
}

// configRevision reports whether a ConfigMap is a revision of the restart
// settings (manifests.RestartConfigMapName: "<cluster>-config-<hash>").
func (b *builder) configRevision(name string) bool {
	if b.d.Cluster == nil || name == b.dynamicConfigMap() {
		return false
	}
	return strings.HasPrefix(name, b.d.Cluster.Metadata.Name+"-config-")
}
