package healthcheck

import (
	"fmt"
	"sort"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// StatusAPIVersion versions the JSON form of an Overview (`neo4jctl status -o json`).
const StatusAPIVersion = "neo4jctl.io/status/v1"

// Overview is the one-screen picture `neo4jctl status` prints, in the
// spirit of `kubectl cnpg status`: what runs where, in which state, and the
// health verdict. It is built from the same Input as the Report.
type Overview struct {
	Cluster string `json:"cluster"`
	File    string `json:"file,omitempty"`
	Edition string `json:"edition"`
	// Version is what Neo4j reports ("" when it could not be read).
	Version   string             `json:"version,omitempty"`
	Servers   []ServerOverview   `json:"servers"`
	Databases []DatabaseOverview `json:"databases"`
	// PDB is the PodDisruptionBudget's allowance ("" when there is none).
	PDB string `json:"pdb,omitempty"`
	// Certificate is the TLS certificate's expiry ("" when TLS is off).
	Certificate string `json:"certificate,omitempty"`
	// Recovery is each database's last backup and last verified restore
	// (healthcheck/verify.go), when the cluster file has spec.backups.
	Recovery []RecoveryOverview `json:"recovery,omitempty"`
	// Drill is the newest DR drill (healthcheck/drill.go), when one is
	// recorded.
	Drill *DrillOverview `json:"drill,omitempty"`
	// Health is the healthcheck Report of the same observation.
	Health *Report `json:"health"`
}

// ServerOverview is one server Pod and its Neo4j server.
type ServerOverview struct {
	Pod      string   `json:"pod"`
	Node     string   `json:"node,omitempty"`
	Ready    bool     `json:"ready"`
	Restarts int32    `json:"restarts"`
	Age      string   `json:"age,omitempty"`
	Server   string   `json:"server,omitempty"` // SHOW SERVERS name
	State    string   `json:"state,omitempty"`
	Health   string   `json:"health,omitempty"`
	Hosting  []string `json:"hosting,omitempty"`
}

// DatabaseOverview is one database: the topology asked and allocated, its
// writer and each allocation's status.
type DatabaseOverview struct {
	Name string `json:"name"`
	// Asked is the cluster file's topology ("default" when it leaves it
	// to Neo4j; "" for a database the file does not declare).
	Asked string `json:"asked,omitempty"`
	// Requested and Online are what SHOW DATABASES reports, as "3p/0s".
	Requested   string   `json:"requested"`
	Online      string   `json:"online"`
	Writer      string   `json:"writer,omitempty"`
	Allocations []string `json:"allocations"` // "<server>: <role> <current status>[, <n> behind]"
	// ReplicationLag is, per server whose copy reports one (SHOW
	// DATABASES replicationLag: online or deallocating copies), how many
	// transactions it is behind the writer.
	ReplicationLag map[string]int64 `json:"replicationLag,omitempty"`
}

// Summarize builds the Overview of one observation and its report.
func Summarize(in Input, r *Report) *Overview {
	o := &Overview{Cluster: in.Expected.Cluster, File: in.File, Edition: in.Expected.Edition, Version: in.Neo4j.Version, Health: r}
	pods := map[string]state.PodHealth{}
	for _, p := range in.Kube.Pods {
		pods[p.Name] = p
	}
	servers := map[string]state.Server{}
	for _, s := range in.Neo4j.Servers {
		if s.State != state.ServerDropped {
			if pod := podOf(&in, s); pod != "" {
				servers[pod] = s
			}
		}
	}
	for _, e := range in.Expected.Servers {
		so := ServerOverview{Pod: e.Pod}
		if p, ok := pods[e.Pod]; ok {
			so.Node, so.Ready = p.Node, p.Ready
			for _, c := range p.Containers {
				so.Restarts += c.RestartCount
			}
			if !p.Created.IsZero() {
				so.Age = age(in.Now.Sub(p.Created))
			}
		}
		if s, ok := servers[e.Pod]; ok {
			so.Server, so.State, so.Health, so.Hosting = s.Name, s.State, s.Health, s.Hosting
		}
		o.Servers = append(o.Servers, so)
	}
	asked := map[string]string{}
	for _, d := range in.Expected.Databases {
		asked[d.Name] = topo(d)
	}
	names, by := allocsByDB(in.Neo4j.Databases)
	for _, name := range names {
		rows := by[name]
		d := DatabaseOverview{Name: name, Asked: asked[name],
			Requested: fmt.Sprintf("%dp/%ds", rows[0].RequestedPrimaries, rows[0].RequestedSecondaries),
			Online:    fmt.Sprintf("%dp/%ds", rows[0].CurrentPrimaries, rows[0].CurrentSecondaries)}
		for _, a := range rows {
			if a.Writer {
				if d.Writer != "" {
					d.Writer += " and "
				}
				d.Writer += allocWhere(&in, a)
			}
			line := fmt.Sprintf("%s: %s %s", allocWhere(&in, a), a.Role, a.CurrentStatus)
			if a.ReplicationLag != nil {
				if d.ReplicationLag == nil {
					d.ReplicationLag = map[string]int64{}
				}
				d.ReplicationLag[allocWhere(&in, a)] = *a.ReplicationLag
				if *a.ReplicationLag > 0 {
					line += fmt.Sprintf(", %d behind", *a.ReplicationLag)
				}
			}
			d.Allocations = append(d.Allocations, line)
		}
		sort.Strings(d.Allocations)
		o.Databases = append(o.Databases, d)
	}
	for _, p := range in.Kube.PDBs {
		if p.Name == in.Expected.PDB {
			o.PDB = fmt.Sprintf("%d %s allowed", p.DisruptionsAllowed, plural(int(p.DisruptionsAllowed), "disruption", "disruptions"))
		}
	}
	for _, c := range in.Certificates {
		o.Certificate = fmt.Sprintf("%s expires %s (in %s)", c.Secret, c.NotAfter.UTC().Format(time.RFC3339), days(c.NotAfter.Sub(in.Now)))
	}
	o.Recovery = recoveryOverview(&in)
	o.Drill = drillOverview(&in)
	return o
}

// age prints a duration as kubectl does for AGE: the largest unit or two.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
