package manifests_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/manifests"
)

// neo4jContainer returns the rendered Neo4j container of the first
// StatefulSet.
func neo4jContainer(t *testing.T, c *clusterfile.Cluster) corev1.Container {
	t.Helper()
	for _, o := range render(t, c) {
		if o.GetKind() != "StatefulSet" {
			continue
		}
		var sts appsv1.StatefulSet
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &sts); err != nil {
			t.Fatal(err)
		}
		for _, ctr := range sts.Spec.Template.Spec.Containers {
			if ctr.Name == "neo4j" {
				return ctr
			}
		}
	}
	t.Fatal("no neo4j container rendered")
	return corev1.Container{}
}

// memberIndependent are the only things a liveness probe may ask, each
// answered by the server alone whatever the other members do:
//   - TCP on Bolt: the port is open while the DBMS runs;
//   - GET /dbms/cluster/status: 200 OK for leader, follower and secondary
//     alike, with or without a known leader (Operations Manual,
//     clustering/monitoring/endpoints.adoc § Unified endpoints, § Status
//     endpoints).
//
// Not /db/<db>/cluster/writable (needs the leader, so a quorum),
// /db/<db>/cluster/read-only (404 on the leader), nor
// /db/<db>/cluster/available (what one database's allocation can do).
func memberIndependent(p *corev1.Probe) bool {
	switch {
	case p == nil:
		return false
	case p.TCPSocket != nil:
		return p.TCPSocket.Port.String() == manifests.PortNameBolt || p.TCPSocket.Port.IntValue() == int(manifests.PortBolt)
	case p.HTTPGet != nil:
		return p.HTTPGet.Path == manifests.ProbePathStatus
	}
	return false
}

// TestLivenessNeverDependsOnOtherMembers: a lost quorum must not make
// Kubernetes restart every server. For every edition and TLS choice, the
// liveness probe (and the startup probe, which stands in for it until it
// first succeeds) asks only what the server answers alone.
func TestLivenessNeverDependsOnOtherMembers(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    func() *clusterfile.Cluster
	}{
		{"enterprise", enterprise},
		{"enterprise, TLS on HTTPS", func() *clusterfile.Cluster {
			c := enterprise()
			c.Spec.TLS = &clusterfile.TLS{SecretName: "g-certs"}
			return c
		}},
		{"community", community},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c()
			clusterfile.Default(c)
			ctr := neo4jContainer(t, c)
			for name, p := range map[string]*corev1.Probe{"liveness": ctr.LivenessProbe, "startup": ctr.StartupProbe} {
				if !memberIndependent(p) {
					t.Errorf("%s probe %+v may depend on other members", name, p)
				}
			}
		})
	}
}

// TestProbesFollowTheManual: Enterprise asks the cluster status endpoints
// (liveness /dbms/cluster/status, readiness /db/system/cluster/available)
// on HTTP, or HTTPS 7473 when TLS covers it, without a credential
// (dbms.security.cluster_status_auth_enabled=false rendered); Community,
// which has no cluster endpoints, is probed on Bolt as the manual's Helm
// values do. Thresholds come from spec.probes, defaults otherwise.
func TestProbesFollowTheManual(t *testing.T) {
	authOff := func(ctr corev1.Container) bool {
		for _, e := range ctr.Env {
			if e.Name == "NEO4J_dbms_security_cluster__status__auth__enabled" {
				return e.Value == "false"
			}
		}
		return false
	}
	t.Run("enterprise HTTP", func(t *testing.T) {
		c := enterprise()
		clusterfile.Default(c)
		ctr := neo4jContainer(t, c)
		for _, want := range []struct {
			p      *corev1.Probe
			path   string
			timing clusterfile.ProbeTiming
		}{
			{ctr.StartupProbe, manifests.ProbePathStatus, clusterfile.DefaultStartupProbe},
			{ctr.LivenessProbe, manifests.ProbePathStatus, clusterfile.DefaultLivenessProbe},
			{ctr.ReadinessProbe, manifests.ProbePathAvailable, clusterfile.DefaultReadinessProbe},
		} {
			h := want.p.HTTPGet
			if h == nil || h.Path != want.path || h.Port.String() != manifests.PortNameHTTP || h.Scheme != corev1.URISchemeHTTP {
				t.Errorf("probe %+v, want GET http %s", want.p, want.path)
				continue
			}
			if got := (clusterfile.ProbeTiming{PeriodSeconds: want.p.PeriodSeconds, TimeoutSeconds: want.p.TimeoutSeconds, FailureThreshold: want.p.FailureThreshold}); got != want.timing {
				t.Errorf("%s thresholds %+v, want the defaults %+v", want.path, got, want.timing)
			}
		}
		if !authOff(ctr) {
			t.Error("dbms.security.cluster_status_auth_enabled=false is not rendered: the probes would need credentials")
		}
	})
	t.Run("enterprise HTTPS", func(t *testing.T) {
		c := enterprise()
		c.Spec.TLS = &clusterfile.TLS{SecretName: "g-certs", Scopes: []string{"https"}}
		clusterfile.Default(c)
		ctr := neo4jContainer(t, c)
		for _, p := range []*corev1.Probe{ctr.StartupProbe, ctr.LivenessProbe, ctr.ReadinessProbe} {
			if h := p.HTTPGet; h == nil || h.Port.String() != manifests.PortNameHTTPS || h.Scheme != corev1.URISchemeHTTPS {
				t.Errorf("probe %+v, want HTTPS on %s", p, manifests.PortNameHTTPS)
			}
		}
		for _, port := range ctr.Ports {
			if port.Name == manifests.PortNameHTTP {
				t.Errorf("port %s declared with plain HTTP off", port.Name)
			}
		}
	})
	t.Run("community", func(t *testing.T) {
		c := community()
		clusterfile.Default(c)
		ctr := neo4jContainer(t, c)
		for _, p := range []*corev1.Probe{ctr.StartupProbe, ctr.LivenessProbe, ctr.ReadinessProbe} {
			if p.TCPSocket == nil || p.TCPSocket.Port.String() != manifests.PortNameBolt {
				t.Errorf("probe %+v, want TCP on bolt", p)
			}
		}
		if authOff(ctr) {
			t.Error("an Enterprise setting rendered for Community: strict validation would refuse it")
		}
	})
	t.Run("thresholds from spec.probes", func(t *testing.T) {
		c := enterprise()
		c.Spec.Probes = &clusterfile.Probes{Startup: clusterfile.ProbeTiming{FailureThreshold: 720}, Readiness: clusterfile.ProbeTiming{PeriodSeconds: 3}}
		clusterfile.Default(c)
		ctr := neo4jContainer(t, c)
		if got := ctr.StartupProbe.FailureThreshold; got != 720 {
			t.Errorf("startup failureThreshold %d, want 720", got)
		}
		if got := ctr.StartupProbe.PeriodSeconds; got != clusterfile.DefaultStartupProbe.PeriodSeconds {
			t.Errorf("startup periodSeconds %d, want the default", got)
		}
		if got := ctr.ReadinessProbe.PeriodSeconds; got != 3 {
			t.Errorf("readiness periodSeconds %d, want 3", got)
		}
	})
}
