package plan

// TLSBaseline returns the fingerprint step s records when all it does is
// record a first TLS certificate stamp on a StatefulSet's own metadata
// (the "record the TLS certificate's fingerprint … as the baseline" step
// of tlsRenewal): an update of an apps/StatefulSet whose every field diff
// adds the annotation AnnotationTLSCertificate to metadata.annotations
// where none was, with nothing on the Pod template, no replicas, no
// partition and no Neo4j parameters. Such a change restarts and reloads
// nothing: the StatefulSet controller acts on the Pod template only.
//
// It reads the step's data (kind, action, object, field paths and the
// before and after objects), never its reason text: apply decides from
// it (apply records a certificate cert-manager issued during the apply,
// see apply.Executor.Apply).
func TLSBaseline(s Step) (fingerprint string, ok bool) {
	if s.Kind != KindApply || s.Action != ActionUpdate || s.Irreversible || s.Object == nil ||
		s.Object.Group != "apps" || s.Object.Kind != "StatefulSet" ||
		s.Replicas != nil || s.Partition != nil || s.Server != nil || len(s.Servers) > 0 || s.Database != nil ||
		s.Setting != nil || s.Rollout != nil || s.DryRun != nil || s.Resize != nil || s.Upgrade != nil ||
		s.Discovery != nil || s.Batch != nil || len(s.FieldDiffs) == 0 {
		return "", false
	}
	for _, f := range s.FieldDiffs {
		if f.ForcesReplacement || f.Sensitive || f.Manager != "" {
			return "", false
		}
		var added any
		switch f.Path {
		case "metadata.annotations." + AnnotationTLSCertificate:
			if b, _ := f.Before.(string); f.Before != nil && b != "" {
				return "", false
			}
			added = f.After
		case "metadata.annotations":
			// The StatefulSet had no annotations: the stamp is the only one.
			m, isMap := f.After.(map[string]any)
			if f.Before != nil || !isMap || len(m) != 1 {
				return "", false
			}
			added = m[AnnotationTLSCertificate]
		default:
			return "", false
		}
		v, _ := added.(string)
		if v == "" || fingerprint != "" && v != fingerprint {
			return "", false
		}
		fingerprint = v
	}
	// The whole objects agree with the diffs: no stamp before, this one
	// after, and the Pod template's stamp (if any) unchanged.
	before, _ := s.Before.(map[string]any)
	after, _ := s.After.(map[string]any)
	meta := []string{"metadata", "annotations", AnnotationTLSCertificate}
	tmpl := []string{"spec", "template", "metadata", "annotations", AnnotationTLSCertificate}
	if before == nil || after == nil || stringAt(before, meta...) != "" || stringAt(after, meta...) != fingerprint ||
		stringAt(before, tmpl...) != stringAt(after, tmpl...) {
		return "", false
	}
	return fingerprint, true
}

// TLSBaselineOnly reports whether p is applicable and every one of its
// steps is a TLSBaseline: a plan that only records the first certificate
// stamp of its StatefulSets, with no Neo4j step, no roll, no refusal and
// no plane left unobserved.
func TLSBaselineOnly(p *Plan) bool {
	if !p.Applicable() || !p.HasChanges() || len(p.Unknown) > 0 || len(p.Conflicts) > 0 || len(p.Withheld) > 0 {
		return false
	}
	for _, s := range p.Steps {
		if _, ok := TLSBaseline(s); !ok {
			return false
		}
	}
	return true
}
