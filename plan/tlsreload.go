package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// KindReloadTLS runs CALL dbms.security.reloadTLS() on one server: it
// re-reads the TLS certificates and SSL policies (Operations Manual,
// procedures/built-in-procedures.adoc § dbms.security.reloadTLS():
// Enterprise, admin only, mode DBMS, from 2025.03). The procedure acts on
// the server it runs on, so apply connects to each server directly.
const KindReloadTLS Kind = "reload-tls"

// SettingTLSReload enables reloadTLS. Changing it needs a restart, so it
// is rendered from the start on versions that have it (ssl-framework.adoc
// § Certificates rotation: "It is best to do this when the cluster is
// deployed as changing this configuration requires a restart").
const SettingTLSReload = "dbms.security.tls_reload_enabled"

// tlsReloadSince is the first version with dbms.security.reloadTLS() and
// dbms.security.tls_reload_enabled (label new-2025.03 on both).
var tlsReloadSince = version{raw: "2025.03.0", parts: [3]int{2025, 3, 0}}

// TLSRenewal says how a renewed certificate (cert-manager rewrites the
// Secret; the kubelet rewrites the projected files in place, so the SSL
// policies' paths stay the same) reaches the servers of a cluster.
type TLSRenewal struct {
	// Reload: CALL dbms.security.reloadTLS() on each server, no restart.
	// Otherwise every server restarts in a gated roll.
	Reload bool
	// Settings are what the cluster's neo4j.conf must hold for Reload.
	Settings map[string]string
	// Reason says why, for the plan.
	Reason string
}

// TLSRenewalFor decides how certificates are renewed for a cluster of
// edition running ver (the lowest version its servers report: during an
// upgrade a server still on 5.26 has no reloadTLS), with TLS scopes.
func TLSRenewalFor(edition, ver string, scopes []string) TLSRenewal {
	if len(scopes) == 0 {
		return TLSRenewal{Reason: "no TLS scope is enabled"}
	}
	v, ok := parseVersion(ver)
	switch {
	case !ok:
		return TLSRenewal{Reason: fmt.Sprintf("version %q is not understood: a renewed certificate is picked up by a gated roll", ver)}
	case edition != "enterprise":
		return TLSRenewal{Reason: "dbms.security.reloadTLS() is Enterprise Edition only: a renewed certificate is picked up by a restart"}
	case v.less(tlsReloadSince):
		return TLSRenewal{Reason: fmt.Sprintf("Neo4j %s cannot reload certificates (dbms.security.reloadTLS() exists from 2025.03): a renewed certificate is picked up by a gated roll, one server at a time", ver)}
	}
	return TLSRenewal{Reload: true, Settings: map[string]string{SettingTLSReload: "true"},
		Reason: fmt.Sprintf("Neo4j %s reloads certificates without a restart: CALL dbms.security.reloadTLS() on each server in turn", ver)}
}

// lowestVersion is the lowest version the servers report, or fallback.
func lowestVersion(n state.Neo4j, fallback string) string {
	low, lowOK := parseVersion(fallback)
	out := fallback
	for _, s := range n.Servers {
		v, ok := parseVersion(s.Version)
		if ok && (!lowOK || v.less(low)) {
			low, lowOK, out = v, true, s.Version
		}
	}
	return out
}

// RenewalSteps plans what a renewed certificate (fingerprint, for the
// reason) needs: on 2025.03+ Enterprise one reload-tls step per Enabled
// server, in server-name order, each on its own server; otherwise one
// gated rolling-update step per StatefulSet (every Pod, highest ordinal
// first, each Ready with its server back before the next), the roll the
// health gate runs for any restart. Steps carry no IDs: the caller adds
// them to a plan. The StatefulSet controller replaces a Pod only when its
// template changed, so the roll also needs the template to carry the
// certificate (its fingerprint as a Pod-template annotation, rendered only
// where Reload is false); that rendering is not part of this plan.
func RenewalSteps(d Desired, n state.Neo4j, scopes []string, fingerprint string) (TLSRenewal, []Step) {
	r := TLSRenewalFor(d.Edition, lowestVersion(n, d.Version), scopes)
	if len(scopes) == 0 {
		return r, nil
	}
	why := "certificate renewed (" + fingerprint + "): "
	if r.Reload {
		var ids []string
		for id, s := range n.Servers {
			if s.State == state.ServerEnabled || s.State == state.ServerCordoned {
				ids = append(ids, id)
			}
		}
		sort.Slice(ids, func(i, j int) bool { return n.Servers[ids[i]].Name < n.Servers[ids[j]].Name })
		var steps []Step
		for _, id := range ids {
			s := n.Servers[id]
			steps = append(steps, Step{Address: serverAddress(id), Action: ActionNeo4j, Kind: KindReloadTLS,
				Sequence: "tls-renewal", Reason: why + "CALL dbms.security.reloadTLS() on this server (new connections use the new certificate; open ones keep theirs)",
				Server: &ServerStep{ServerID: id, PodAddress: strings.Split(s.Address, ":")[0]}})
		}
		return r, steps
	}
	var steps []Step
	for _, p := range d.Pools {
		var pods []string
		for i := int(p.Replicas) - 1; i >= 0; i-- {
			pods = append(pods, podName(p.StatefulSet, i))
		}
		steps = append(steps, Step{Address: stsAddress(d.Namespace, p.StatefulSet), Action: ActionRead, Kind: KindRollingUpdate,
			Sequence: "tls-renewal", Reason: why + r.Reason,
			Rollout: &Rollout{StatefulSet: p.StatefulSet, Pods: pods, Servers: d.Edition == "enterprise"}})
	}
	return r, steps
}

// AnnotationTLSCertificate is manifests.AnnotationTLSCertificate: the
// fingerprint of the TLS Secret's certificate, stamped at plan time on
// the StatefulSet where the servers reload certificates (2025.03+), on
// its Pod template otherwise (a renewal then changes the template and the
// StatefulSet's servers restart in the gated roll every template change
// gets).
const AnnotationTLSCertificate = "neo4jctl.io/tls-certificate"

// tlsRenewal adds after the StatefulSet step sts of c, once per plan, a
// reload-tls step per server when the certificate fingerprint on the
// StatefulSet itself changed: cert-manager renewed the certificate and
// the servers can reload it. A first fingerprint (none before) reloads
// nothing: the servers read the files they have when they started.
func (b *builder) tlsRenewal(c *chain, sts *draft) {
	if sts == nil || b.tlsReloaded || !b.neoKnown || b.d.Cluster == nil || b.d.Cluster.Spec.TLS == nil {
		return
	}
	for _, f := range sts.FieldDiffs {
		if !strings.HasPrefix(f.Path, "metadata.annotations") || !strings.Contains(f.Path, AnnotationTLSCertificate) {
			continue
		}
		before, _ := f.Before.(string)
		after, _ := f.After.(string)
		if before == "" || after == "" || before == after {
			return
		}
		scopes := b.d.Cluster.Spec.TLS.Scopes
		if len(scopes) == 0 {
			scopes = []string{"bolt", "https"}
		}
		r, steps := RenewalSteps(b.d, b.n, scopes, before+" → "+after)
		if !r.Reload {
			b.warn("the TLS certificate was renewed (%s → %s), but %s; restart the servers to load it", before, after, r.Reason)
			return
		}
		b.tlsReloaded = true
		for _, s := range steps {
			c.add(s)
		}
		return
	}
}
