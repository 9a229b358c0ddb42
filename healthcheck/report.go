package healthcheck

import (
	"time"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

// APIVersion versions the JSON form of a Report (docs/healthcheck.md).
// Fields are only ever added within a version.
const APIVersion = "neo4jctl.io/healthcheck/v1"

// Status is the outcome of one check, and the verdict of a Report.
type Status string

// Statuses, from best to worst. UNKNOWN (the check could not run) ranks as
// bad as FAIL: a cluster that could not be checked is never called healthy.
const (
	Skip    Status = "SKIP" // the check does not apply (e.g. Community has no SHOW SERVERS)
	Pass    Status = "PASS"
	Warn    Status = "WARN"
	Fail    Status = "FAIL"
	Unknown Status = "UNKNOWN"
)

func (s Status) rank() int {
	switch s {
	case Pass:
		return 1
	case Warn:
		return 2
	case Fail, Unknown:
		return 3
	}
	return 0
}

// Worse reports whether s is worse than o.
func (s Status) Worse(o Status) bool { return s.rank() > o.rank() }

// Check is one named check's result.
type Check struct {
	// ID is stable (scripts and alerts key on it), e.g. "neo4j.servers".
	ID string `json:"id"`
	// Title is what the human view prints.
	Title  string `json:"title"`
	Status Status `json:"status"`
	// Summary is one line saying what was found.
	Summary string `json:"summary"`
	// Evidence lists what the summary is based on, one item a line.
	Evidence []string `json:"evidence,omitempty"`
	// Fix says what to do; empty for PASS and SKIP.
	Fix string `json:"fix,omitempty"`
}

// Report is the health of one cluster.
type Report struct {
	APIVersion string    `json:"apiVersion"`
	Cluster    string    `json:"cluster"` // namespace/name
	File       string    `json:"file,omitempty"`
	ObservedAt time.Time `json:"observedAt"`
	// Status is the worst status of the checks (SKIP counts as PASS).
	Status Status  `json:"status"`
	Checks []Check `json:"checks"`
}

// Counts returns how many checks have each status.
func (r *Report) Counts() map[Status]int {
	out := map[Status]int{}
	for _, c := range r.Checks {
		out[c.Status]++
	}
	return out
}

// Failed reports whether the report must make the command fail: any FAIL or
// UNKNOWN, and any WARN when failOnWarn is set.
func (r *Report) Failed(failOnWarn bool) bool {
	for _, c := range r.Checks {
		switch c.Status {
		case Fail, Unknown:
			return true
		case Warn:
			if failOnWarn {
				return true
			}
		}
	}
	return false
}

// Input is one observation of a cluster, everything Compute looks at.
type Input struct {
	Now      time.Time
	File     string
	Expected Expected

	// Kube is the Kubernetes plane; KubeErr, when set, says why it could
	// not be read (its checks are then UNKNOWN).
	Kube    state.KubeHealth
	KubeErr string

	// Neo4j is SHOW SERVERS and SHOW DATABASES (Reachable false with a
	// Reason when it could not be read).
	Neo4j state.Neo4j
	// Neo4jSkipped is set when the user asked not to read Neo4j: its
	// checks are SKIP instead of UNKNOWN.
	Neo4jSkipped bool
	// StatusCheck holds the rows of CALL dbms.cluster.statusCheck([]);
	// StatusCheckErr says why it could not run. Neither is set for a
	// version without the procedure (before 5.24).
	StatusCheck    []state.StatusCheck
	StatusCheckErr string

	// Recheck is a second read of SHOW DATABASES, taken a while after the
	// first because the first showed two writers for a database; nil when
	// none was taken.
	Recheck *Recheck

	// Volumes are the claims' usage from the kubelets. VolumesErr says why
	// they could not be read (the check is then UNKNOWN); VolumesSkip, when
	// set, why the check does not apply (--volume-stats=off, or auto and
	// the node proxy refused).
	Volumes     []state.VolumeUsage
	VolumesErr  string
	VolumesSkip string

	// Certificates are the TLS certificates of the cluster's Secret.
	Certificates []Certificate
	// CertificateErr says why the TLS Secret could not be read.
	CertificateErr string

	// Backups is spec.backups.schedule with the catalogue's newest backup
	// per database (its Err says why the catalogue could not be read); nil
	// when the cluster file schedules no backups, and the check is absent.
	Backups *BackupInput
	// Verifications are the catalogue's verifications by restore per
	// database (healthcheck/verify.go); nil when spec.backups has no
	// verification schedule and none was ever recorded: the check is then
	// absent.
	Verifications *VerificationInput
	// Drill is the newest DR drill records (healthcheck/drill.go); nil
	// when spec.backups has no drill schedule and none was recorded.
	Drill *DrillInput
}

// Recheck is a later read of SHOW DATABASES.
type Recheck struct {
	After     time.Duration
	Databases []state.DatabaseAllocation
	Err       string
}

// Certificate is the leaf certificate of a TLS Secret (tls.crt is public:
// the key is never read).
type Certificate struct {
	Secret   string    `json:"secret"`
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"notAfter"`
}

// Expected is what the cluster file asks for.
type Expected struct {
	Cluster   string // namespace/name
	Namespace string
	Edition   string // enterprise or community
	// Servers are the Pods the cluster file renders, in pool and ordinal order.
	Servers []ExpectedServer
	// StatefulSets and PDB name the objects whose status is checked.
	StatefulSets []string
	PDB          string
	Databases    []ExpectedDatabase
	// TLSSecret names the Secret holding the servers' certificate; "" when
	// TLS is off.
	TLSSecret string
	// Memory is what the pods are given and what Neo4j is told to use.
	Memory []MemoryBudget
}

// ExpectedServer is one server Pod and the address its server advertises.
type ExpectedServer struct {
	Pod         string
	StatefulSet string
	// Host is the Pod's DNS name, the host of the server's advertised address.
	Host string
}

// ExpectedDatabase is a database of the cluster file; zero counts leave
// the topology to Neo4j's defaults.
type ExpectedDatabase struct {
	Name        string
	Primaries   int32
	Secondaries int32
}

// MemoryBudget is one pool's memory: heap and page cache as neo4j.conf
// sets them and the container's limit, in bytes (0 = not set).
type MemoryBudget struct {
	StatefulSet string
	Heap        int64
	PageCache   int64
	Limit       int64
}
