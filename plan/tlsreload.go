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
	why := "certificate renewed: fingerprint " + fingerprint + ": "
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
// the StatefulSet's metadata (the recorded baseline: changing it restarts
// nothing) and, where the servers cannot reload certificates (before
// 2025.03), on its Pod template once a renewal must restart them.
const AnnotationTLSCertificate = "neo4jctl.io/tls-certificate"

// tlsStamp is a StatefulSet's certificate stamp before and after a change.
type tlsStamp struct {
	recBefore, recAfter   string // on the StatefulSet's metadata
	tmplBefore, tmplAfter string // on its Pod template
}

// tlsStampOf reads the stamp of o, live against what apply makes of it
// (the server's prediction, or the rendered object when compared
// structurally).
func tlsStampOf(o *state.Object) (tlsStamp, bool) {
	if o == nil || o.Live == nil {
		return tlsStamp{}, false
	}
	after := o.Predicted
	if after == nil {
		after = o.Desired
	}
	meta := []string{"metadata", "annotations", AnnotationTLSCertificate}
	tmpl := []string{"spec", "template", "metadata", "annotations", AnnotationTLSCertificate}
	return tlsStamp{
		recBefore: stringAt(o.Live, meta...), recAfter: stringAt(after, meta...),
		tmplBefore: stringAt(o.Live, tmpl...), tmplAfter: stringAt(after, tmpl...),
	}, true
}

// stringAt is the string at path in a JSON-shaped object, "" when none.
func stringAt(obj map[string]any, path ...string) string {
	var v any = obj
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// renewed says "certificate renewed: fingerprint a → b", how the plan
// names a renewal.
func renewed(before, after string) string {
	return "certificate renewed: fingerprint " + before + " → " + after
}

// stampOnly reports whether every field diff is the certificate stamp:
// the StatefulSet changes for the Secret, not for the cluster file.
func stampOnly(diffs []FieldDiff) bool {
	for _, f := range diffs {
		switch f.Path {
		case "metadata.annotations." + AnnotationTLSCertificate, "spec.template.metadata.annotations." + AnnotationTLSCertificate:
			continue
		case "metadata.annotations", "spec.template.metadata.annotations":
			// The annotations were absent before: all of them are new.
			if m, ok := f.After.(map[string]any); ok && f.Before == nil && len(m) == 1 && m[AnnotationTLSCertificate] != nil {
				continue
			}
		}
		return false
	}
	return len(diffs) > 0
}

// tlsRenewal names what the certificate stamp of the StatefulSet step sts
// (object o) does, and adds after it, once per plan, a reload-tls step
// per server when the servers reload certificates and the recorded
// fingerprint changed (cert-manager renewed the certificate, or someone
// replaced the Secret). A first fingerprint (none recorded before) is a
// baseline: it reloads and restarts nothing, the servers read the files
// they have when they started. Where the servers cannot reload, the
// renewal changes the Pod template and the rolling-update step carries
// it (tlsRollReason).
func (b *builder) tlsRenewal(c *chain, sts *draft, o *state.Object) {
	st, ok := tlsStampOf(o)
	if sts == nil || !ok || b.d.Cluster == nil || b.d.Cluster.Spec.TLS == nil || st.recAfter == "" || st.recBefore == st.recAfter {
		return
	}
	var why string
	rolls := st.tmplAfter != "" && st.tmplAfter != st.tmplBefore
	switch {
	case st.recBefore == "":
		why = "record the TLS certificate's fingerprint " + st.recAfter + " as the baseline (nothing restarts or reloads; a later renewal will)"
	case rolls:
		why = renewed(st.recBefore, st.recAfter) + ": the servers cannot reload certificates, rolling restart one server at a time (the rolling-update step)"
	default:
		why = renewed(st.recBefore, st.recAfter) + ": reload TLS on each server"
	}
	if stampOnly(sts.FieldDiffs) {
		sts.Reason = why
	} else {
		sts.Reason += "; " + why
	}
	if st.recBefore == "" || rolls || b.tlsReloaded || !b.neoKnown {
		return
	}
	scopes := b.d.Cluster.Spec.TLS.Scopes
	if len(scopes) == 0 {
		scopes = []string{"bolt", "https"}
	}
	r, steps := RenewalSteps(b.d, b.n, scopes, st.recBefore+" → "+st.recAfter)
	if !r.Reload {
		b.warn("the TLS certificate was renewed (%s → %s), but %s; restart the servers to load it", st.recBefore, st.recAfter, r.Reason)
		return
	}
	b.tlsReloaded = true
	for _, s := range steps {
		c.add(s)
	}
}

// tlsRollReason names a renewed certificate as the reason of a rolling
// update (why is the reason rollFrom gave): the Pod template carries the
// new fingerprint, so every server restarts once to read it.
func tlsRollReason(sts *draft, o *state.Object, why string) string {
	st, ok := tlsStampOf(o)
	if sts == nil || !ok || st.tmplAfter == "" || st.tmplAfter == st.tmplBefore {
		return why
	}
	var template []FieldDiff
	for _, f := range sts.FieldDiffs {
		if pathWithin(f.Path, "spec.template") {
			template = append(template, f)
		}
	}
	from := st.tmplBefore
	if from == "" {
		from = st.recBefore
	}
	r := renewed(from, st.tmplAfter) + ", rolling restart one server at a time (Neo4j before 2025.03 reads certificates only at start)"
	if stampOnly(template) {
		return r
	}
	return why + "; " + r
}
