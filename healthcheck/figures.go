package healthcheck

import "sort"

// Figures are the numbers behind some checks, for metrics (watch exports
// them next to each check's status).
type Figures struct {
	// SplitBrainDatabases counts the databases that more than one server
	// reports itself writer for: on the second read when one was taken
	// (so a leader change in flight counts only while it lasts), on the
	// first otherwise. -1 when SHOW DATABASES could not be read.
	SplitBrainDatabases int
	// Storage is each claim's used fraction of its capacity (kubelet
	// volume stats), by claim name.
	Storage []StorageFigure
	// Memory is each pool's heap + page cache over its container's memory
	// limit (config.memory FAILs at ≥ 1), for pools with both known.
	Memory []MemoryFigure
	// CertificateExpiry is each TLS Secret's leaf certificate's expiry,
	// in seconds from the observation (negative once expired).
	CertificateExpiry []CertificateFigure
	// ReplicationLag is, per copy that reports one (SHOW DATABASES
	// replicationLag), how many transactions it is behind its writer.
	ReplicationLag []LagFigure
}

// LagFigure is one copy's replication lag. Server is the server's SHOW
// SERVERS name (its Pod's once renamed), its id when unknown.
type LagFigure struct {
	Database     string
	Server       string
	Transactions int64
}

// StorageFigure is one claim's usage.
type StorageFigure struct {
	Claim string
	Ratio float64
}

// MemoryFigure is one pool's memory budget.
type MemoryFigure struct {
	StatefulSet string
	Ratio       float64
}

// CertificateFigure is one certificate's remaining life.
type CertificateFigure struct {
	Secret  string
	Seconds float64
}

// ComputeFigures derives the Figures of one observation.
func ComputeFigures(in Input) Figures {
	f := Figures{SplitBrainDatabases: -1}
	if in.Neo4j.Reachable {
		rows := in.Neo4j.Databases
		if in.Recheck != nil && in.Recheck.Err == "" {
			// A split-brain is what both reads show.
			first := map[string]bool{}
			for _, db := range SplitBrainSuspects(rows) {
				first[db] = true
			}
			n := 0
			for _, db := range SplitBrainSuspects(in.Recheck.Databases) {
				if first[db] {
					n++
				}
			}
			f.SplitBrainDatabases = n
		} else {
			f.SplitBrainDatabases = len(SplitBrainSuspects(rows))
		}
		for _, a := range rows {
			if a.ReplicationLag == nil {
				continue
			}
			server := a.ServerID
			if s, ok := in.Neo4j.Servers[a.ServerID]; ok && s.Name != "" {
				server = s.Name
			}
			f.ReplicationLag = append(f.ReplicationLag, LagFigure{Database: a.Name, Server: server, Transactions: *a.ReplicationLag})
		}
		sort.Slice(f.ReplicationLag, func(i, j int) bool {
			a, b := f.ReplicationLag[i], f.ReplicationLag[j]
			if a.Database != b.Database {
				return a.Database < b.Database
			}
			return a.Server < b.Server
		})
	}
	for _, v := range in.Volumes {
		if v.CapacityBytes > 0 {
			f.Storage = append(f.Storage, StorageFigure{Claim: v.Claim, Ratio: float64(v.UsedBytes) / float64(v.CapacityBytes)})
		}
	}
	sort.Slice(f.Storage, func(i, j int) bool { return f.Storage[i].Claim < f.Storage[j].Claim })
	for _, m := range in.Expected.Memory {
		if m.Limit > 0 && m.Heap+m.PageCache > 0 {
			f.Memory = append(f.Memory, MemoryFigure{StatefulSet: m.StatefulSet, Ratio: float64(m.Heap+m.PageCache) / float64(m.Limit)})
		}
	}
	for _, c := range in.Certificates {
		f.CertificateExpiry = append(f.CertificateExpiry, CertificateFigure{Secret: c.Secret, Seconds: c.NotAfter.Sub(in.Now).Seconds()})
	}
	return f
}
