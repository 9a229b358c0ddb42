package neo4jsim

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestChartPodAdvertisedAddress: a chart Pod advertises what its
// ConfigMaps say (fact: helm.advertised-address,
// fact: helm.standalone-advertised-address): the release's Service when
// clustered, a value of the user's own as given, and localhost when the
// chart set nothing (a standalone).
func TestChartPodAdvertisedAddress(t *testing.T) {
	f := &follower{opts: FollowOptions{BoltPort: 7687, HeadlessService: "graph1"}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "graph1-0", Namespace: "ns",
		Labels: map[string]string{"helm.neo4j.com/instance": "graph1"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "neo4j",
			Env: []corev1.EnvVar{{Name: "SERVICE_NEO4J", Value: "graph1.ns.svc.cluster.local"}}}}}}
	for _, c := range []struct {
		conf map[string]string
		want string
	}{
		{map[string]string{"server.bolt.advertised_address": "$(bash -c 'echo ${SERVICE_NEO4J}')"}, "graph1.ns.svc.cluster.local:7687"},
		{map[string]string{"server.bolt.advertised_address": "db.example.com:7777"}, "db.example.com:7777"},
		{map[string]string{"server.default_advertised_address": "db.example.com"}, "db.example.com:7687"},
		{map[string]string{}, "localhost:7687"},
	} {
		if got := f.advertise(pod, c.conf); got != c.want {
			t.Errorf("advertise with %v = %q, want %q", c.conf, got, c.want)
		}
	}
}
