package healthcheck

import (
	"testing"
	"time"
)

func TestComputeFigures(t *testing.T) {
	in := healthy()
	in.Volumes[1].UsedBytes = in.Volumes[1].CapacityBytes * 96 / 100
	in.Certificates = []Certificate{{Secret: "prod-tls", NotAfter: now.Add(72 * time.Hour)}}
	f := ComputeFigures(in)
	if f.SplitBrainDatabases != 0 {
		t.Errorf("split-brain databases %d on a healthy cluster", f.SplitBrainDatabases)
	}
	if len(f.Storage) != 3 || f.Storage[1].Claim != "data-prod-1" || f.Storage[1].Ratio < 0.959 || f.Storage[1].Ratio > 0.961 {
		t.Errorf("storage %+v, want data-prod-1 at 0.96", f.Storage)
	}
	if len(f.Memory) != 1 || f.Memory[0].StatefulSet != "prod" || f.Memory[0].Ratio != float64(640)/1024 {
		t.Errorf("memory %+v, want prod at 640Mi of 1Gi", f.Memory)
	}
	if len(f.CertificateExpiry) != 1 || f.CertificateExpiry[0].Seconds != 72*3600 {
		t.Errorf("certificate expiry %+v, want 3 days", f.CertificateExpiry)
	}

	dbRow(&in, "movies", "id-prod-2").ReplicationLag = lag(1500)
	var got []LagFigure
	for _, l := range ComputeFigures(in).ReplicationLag {
		if l.Database == "movies" {
			got = append(got, l)
		}
	}
	if len(got) != 3 || got[2] != (LagFigure{Database: "movies", Server: "server-prod-2", Transactions: 1500}) || got[0].Transactions != 0 {
		t.Errorf("movies replication lag %+v, want server-prod-0/1 at 0 and server-prod-2 at 1500", got)
	}

	// Two writers for movies: counted on a single read; on a second read
	// only if it shows them too.
	for i, a := range in.Neo4j.Databases {
		if a.Name == "movies" && a.ServerID == "id-prod-1" {
			in.Neo4j.Databases[i].Writer = true
		}
	}
	if got := ComputeFigures(in).SplitBrainDatabases; got != 1 {
		t.Errorf("one read with two writers: %d, want 1", got)
	}
	in.Recheck = &Recheck{After: 5 * time.Second, Databases: healthy().Neo4j.Databases}
	if got := ComputeFigures(in).SplitBrainDatabases; got != 0 {
		t.Errorf("second read with one writer: %d, want 0 (a leader change in flight)", got)
	}
	in.Recheck.Databases = in.Neo4j.Databases
	if got := ComputeFigures(in).SplitBrainDatabases; got != 1 {
		t.Errorf("both reads with two writers: %d, want 1", got)
	}
	in.Neo4j.Reachable = false
	if got := ComputeFigures(in).SplitBrainDatabases; got != -1 {
		t.Errorf("Neo4j unread: %d, want -1", got)
	}
}
