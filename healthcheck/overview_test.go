package healthcheck

import (
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

func TestSummarize(t *testing.T) {
	in := healthy()
	in.Kube.Pods[1].Node = "node-b"
	in.Kube.Pods[1].Containers[0].RestartCount = 2
	in.Kube.Pods[2].Ready = false
	setServer(&in, "id-prod-2", func(s *state.Server) { s.State = "Cordoned" })
	dbRow(&in, "movies", "id-prod-2").CurrentStatus = "store copying"
	dbRow(&in, "movies", "id-prod-1").ReplicationLag = lag(42)
	in.Expected.TLSSecret = "prod-tls"
	in.Certificates = []Certificate{{Secret: "prod-tls", NotAfter: now.Add(48 * time.Hour)}}
	o := Summarize(in, Compute(in))
	if len(o.Servers) != 3 || o.Servers[1].Node != "node-b" || o.Servers[1].Restarts != 2 || o.Servers[1].Age != "1h0m" ||
		o.Servers[2].Ready || o.Servers[2].State != "Cordoned" || o.Servers[2].Server != "server-prod-2" {
		t.Errorf("servers: got %+v", o.Servers)
	}
	var movies *DatabaseOverview
	for i := range o.Databases {
		if o.Databases[i].Name == "movies" {
			movies = &o.Databases[i]
		}
	}
	if movies == nil || movies.Asked != "3p/0s" || movies.Requested != "3p/0s" || movies.Writer != "server-prod-0 (Pod prod-0)" ||
		!strings.Contains(strings.Join(movies.Allocations, "\n"), "server-prod-2 (Pod prod-2): primary store copying") {
		t.Errorf("movies: got %+v", movies)
	}
	// The lag per allocation (issue 13: "lag where known").
	if movies != nil && (!strings.Contains(strings.Join(movies.Allocations, "\n"), "server-prod-1 (Pod prod-1): primary online, 42 behind") ||
		movies.ReplicationLag["server-prod-1 (Pod prod-1)"] != 42 || movies.ReplicationLag["server-prod-0 (Pod prod-0)"] != 0) {
		t.Errorf("movies lag: got %q, %v", movies.Allocations, movies.ReplicationLag)
	}
	if o.PDB != "1 disruption allowed" || !strings.Contains(o.Certificate, "in 2.0 days") {
		t.Errorf("got PDB %q, certificate %q", o.PDB, o.Certificate)
	}
	if o.Health == nil || o.Health.Status != Fail {
		t.Errorf("health: got %+v, want the FAIL report", o.Health)
	}
}
