package plan_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"

	"github.com/neo4jctl/neo4jctl/plan"
	"github.com/neo4jctl/neo4jctl/plan/plantest"
)

func TestTLSRenewalFor(t *testing.T) {
	tests := []struct {
		edition, version string
		scopes           []string
		reload           bool
	}{
		{"enterprise", "5.26.0", []string{"bolt"}, false},
		{"enterprise", "2025.02.0", []string{"bolt"}, false},
		{"enterprise", "2025.03.0", []string{"bolt"}, true},
		{"enterprise", "2025.10.1", []string{"bolt", "cluster"}, true},
		{"community", "2025.10.1", []string{"bolt"}, false},
		{"enterprise", "2025.10.1", nil, false},
	}
	for _, tt := range tests {
		r := plan.TLSRenewalFor(tt.edition, tt.version, tt.scopes)
		if r.Reload != tt.reload {
			t.Errorf("%s %s %v: reload %v, want %v (%s)", tt.edition, tt.version, tt.scopes, r.Reload, tt.reload, r.Reason)
		}
		if want := tt.reload; (r.Settings[plan.SettingTLSReload] == "true") != want {
			t.Errorf("%s %s: settings %v", tt.edition, tt.version, r.Settings)
		}
	}
}

// TestRenewalSteps: a reload per server on 2025.03+, a gated roll on 5.26,
// and a roll while any server still runs 5.26 (mid-upgrade).
func TestRenewalSteps(t *testing.T) {
	s := scenario("no-changes")
	s.Desired.Version = "2025.10.1"
	for id, srv := range s.Neo4j.Servers {
		srv.Version = "2025.10.1"
		s.Neo4j.Servers[id] = srv
	}
	_, steps := plan.RenewalSteps(s.Desired, s.Neo4j, []string{"bolt"}, "sha256:ab12")
	var got []string
	for _, st := range steps {
		got = append(got, st.Address+" "+string(st.Kind))
	}
	var want []string
	for _, id := range plantest.ServerIDs[:3] {
		want = append(want, "neo4j:server/"+id+" reload-tls")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("2025.10 steps (-want +got):\n%s", diff)
	}

	// One server still on 5.26: the cluster cannot reload as a whole.
	srv := s.Neo4j.Servers[plantest.ServerIDs[2]]
	srv.Version = "5.26.0"
	s.Neo4j.Servers[plantest.ServerIDs[2]] = srv
	r, steps := plan.RenewalSteps(s.Desired, s.Neo4j, []string{"bolt"}, "sha256:ab12")
	if r.Reload || len(steps) != 1 || steps[0].Kind != plan.KindRollingUpdate || steps[0].Rollout == nil ||
		!cmp.Equal(steps[0].Rollout.Pods, []string{"prod-2", "prod-1", "prod-0"}) || !steps[0].Rollout.Servers {
		t.Errorf("mixed versions: %+v %+v, want one gated roll of prod-2, prod-1, prod-0", r, steps)
	}
}

// TestComputeTLSRenewal: the certificate fingerprint on the StatefulSet
// changed (cert-manager renewed it; 2025.03+ stamps it there): the plan
// updates the StatefulSet and then reloads every server, one step each,
// with no roll. A first fingerprint reloads nothing.
func TestComputeTLSRenewal(t *testing.T) {
	for _, tc := range []struct {
		name, before string
		reloads      int
	}{
		{"renewed", "sha256:old", 3},
		{"first fingerprint", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := plantest.Cluster(3)
			c.Spec.Version, c.Spec.Image = "2025.10.1", "neo4j:2025.10.1-enterprise"
			c.Spec.TLS = &clusterfile.TLS{SecretName: "certs", Scopes: []string{"bolt"}}
			k := plantest.Converged(c, 3)
			sts := plantest.Object(&k, "StatefulSet", plantest.Name)
			meta := sts.Predicted["metadata"].(map[string]any)
			meta["annotations"] = map[string]any{plan.AnnotationTLSCertificate: "sha256:new"}
			if tc.before != "" {
				sts.Live["metadata"].(map[string]any)["annotations"] = map[string]any{plan.AnnotationTLSCertificate: tc.before}
			}
			n := plantest.Neo4j(3)
			for id, s := range n.Servers {
				s.Version = "2025.10.1"
				n.Servers[id] = s
			}
			p := mustCompute(t, plantest.Desired(c), k, n, plan.Options{})
			var kinds []string
			reloads := 0
			for _, s := range p.Steps {
				kinds = append(kinds, string(s.Kind))
				if s.Kind == plan.KindReloadTLS {
					reloads++
				}
				if s.Kind == plan.KindRollingUpdate {
					t.Errorf("a renewal on 2025.10 plans a roll: %+v", s)
				}
			}
			if reloads != tc.reloads {
				t.Errorf("got %d reload-tls steps (%v), want %d", reloads, kinds, tc.reloads)
			}
			for _, s := range p.Steps {
				if s.Address != sts.Address {
					continue
				}
				want := "certificate renewed: fingerprint sha256:old → sha256:new: reload TLS on each server"
				if tc.before == "" {
					want = "record the TLS certificate's fingerprint sha256:new as the baseline"
				}
				if !strings.HasPrefix(s.Reason, want) {
					t.Errorf("StatefulSet step reason %q, want it to start %q", s.Reason, want)
				}
			}
		})
	}
}

// TestComputeTLSStamp526: on 5.26 a recorded baseline that differs from
// the Secret's certificate puts the fingerprint on the Pod template (the
// render's rule, manifests.StampTLS): the plan rolls every server once,
// one at a time, and names the renewal as the reason; it reloads nothing
// and warns nothing. A first stamp (no baseline before) only records it:
// the StatefulSet changes, no Pod does.
func TestComputeTLSStamp526(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		liveRec, liveTmpl    string
		predRec, predTmpl    string
		wantRoll             bool
		wantStsReason        string
		wantRollReasonPrefix string
	}{
		{name: "renewed", liveRec: "sha256:old", predRec: "sha256:new", predTmpl: "sha256:new", wantRoll: true,
			wantStsReason:        "certificate renewed: fingerprint sha256:old → sha256:new: the servers cannot reload certificates",
			wantRollReasonPrefix: "certificate renewed: fingerprint sha256:old → sha256:new, rolling restart one server at a time"},
		{name: "renewed again", liveRec: "sha256:old", liveTmpl: "sha256:old", predRec: "sha256:new", predTmpl: "sha256:new", wantRoll: true,
			wantStsReason:        "certificate renewed: fingerprint sha256:old → sha256:new",
			wantRollReasonPrefix: "certificate renewed: fingerprint sha256:old → sha256:new, rolling restart"},
		{name: "first stamp", predRec: "sha256:new",
			wantStsReason: "record the TLS certificate's fingerprint sha256:new as the baseline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := plantest.Cluster(3)
			c.Spec.TLS = &clusterfile.TLS{SecretName: "certs", Scopes: []string{"bolt"}}
			k := plantest.Converged(c, 3)
			sts := plantest.Object(&k, "StatefulSet", plantest.Name)
			stamp := func(o map[string]any, rec, tmpl string) {
				if rec != "" {
					o["metadata"].(map[string]any)["annotations"] = map[string]any{plan.AnnotationTLSCertificate: rec}
				}
				if tmpl != "" {
					ann := o["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)
					ann[plan.AnnotationTLSCertificate] = tmpl
				}
			}
			stamp(sts.Live, tc.liveRec, tc.liveTmpl)
			stamp(sts.Predicted, tc.predRec, tc.predTmpl)
			p := mustCompute(t, plantest.Desired(c), k, plantest.Neo4j(3), plan.Options{})
			var roll, stsStep *plan.Step
			for i, s := range p.Steps {
				switch {
				case s.Kind == plan.KindReloadTLS:
					t.Errorf("5.26 plans a reload-tls step: %+v", s)
				case s.Kind == plan.KindRollingUpdate:
					roll = &p.Steps[i]
				case s.Address == sts.Address:
					stsStep = &p.Steps[i]
				}
			}
			if len(p.Warnings) > 0 {
				t.Errorf("warnings %q, want none", p.Warnings)
			}
			if stsStep == nil || !strings.HasPrefix(stsStep.Reason, tc.wantStsReason) {
				t.Errorf("StatefulSet step %+v, want reason starting %q", stsStep, tc.wantStsReason)
			}
			switch {
			case tc.wantRoll && roll == nil:
				t.Fatalf("no rolling-update step in %+v", p.Steps)
			case !tc.wantRoll && roll != nil:
				t.Fatalf("the first stamp rolls: %+v", roll)
			case tc.wantRoll:
				if !strings.HasPrefix(roll.Reason, tc.wantRollReasonPrefix) || !cmp.Equal(roll.Rollout.Pods, []string{"prod-2", "prod-1", "prod-0"}) || !roll.Rollout.Servers {
					t.Errorf("roll %q over %v (gated %v), want reason %q…, prod-2, prod-1, prod-0 gated", roll.Reason, roll.Rollout.Pods, roll.Rollout.Servers, tc.wantRollReasonPrefix)
				}
			}
		})
	}
}
