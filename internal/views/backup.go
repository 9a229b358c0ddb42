package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/ops"
)

// BackupAPIVersion versions the JSON documents of the backup commands
// (docs/backups.md, "Machine output").
const BackupAPIVersion = "neo4jctl.io/backup/v1"

// BackupList is what `backup list` shows: the cluster's catalogue.
type BackupList struct {
	APIVersion string          `json:"apiVersion"`
	Cluster    string          `json:"cluster"`
	Storage    string          `json:"storage"`
	Backups    []catalog.Entry `json:"backups"`
}

// BackupDescription is what `backup describe` shows: one entry and what
// restoring it replays.
type BackupDescription struct {
	APIVersion string        `json:"apiVersion"`
	Backup     catalog.Entry `json:"backup"`
	// RestorePath is the chain restoring this backup replays, its full
	// first; empty when it cannot be restored (RestoreProblem says why).
	RestorePath    []string `json:"restorePath"`
	RestoreProblem string   `json:"restoreProblem,omitempty"`
}

// BackupPrune is what `backup prune` shows: the retention decision per
// database and whether it was carried out.
type BackupPrune struct {
	APIVersion string        `json:"apiVersion"`
	DryRun     bool          `json:"dryRun"`
	Plan       ops.PrunePlan `json:"plan"`
	// Deleted is how many backups --apply deleted.
	Deleted int `json:"deleted"`
}

// BackupView renders the backup commands' documents.
type BackupView interface {
	List(w io.Writer, l BackupList) error
	Describe(w io.Writer, d BackupDescription) error
	Prune(w io.Writer, p BackupPrune) error
}

// NewBackupView returns the human or JSON view.
func NewBackupView(format string) (BackupView, error) {
	switch format {
	case FormatHuman, FormatText, "":
		return humanBackup{}, nil
	case FormatJSON:
		return jsonBackup{}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want human or json)", format)
}

type jsonBackup struct{}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (jsonBackup) List(w io.Writer, l BackupList) error {
	if l.Backups == nil {
		l.Backups = []catalog.Entry{}
	}
	l.APIVersion = BackupAPIVersion
	return writeJSON(w, l)
}

func (jsonBackup) Describe(w io.Writer, d BackupDescription) error {
	if d.RestorePath == nil {
		d.RestorePath = []string{}
	}
	d.APIVersion = BackupAPIVersion
	return writeJSON(w, d)
}

func (jsonBackup) Prune(w io.Writer, p BackupPrune) error {
	p.APIVersion = BackupAPIVersion
	return writeJSON(w, p)
}

type humanBackup struct{}

const stamp = "2006-01-02 15:04:05Z"

func (humanBackup) List(w io.Writer, l BackupList) error {
	if len(l.Backups) == 0 {
		_, err := fmt.Fprintf(w, "No backups of cluster %s in %s.\n", l.Cluster, l.Storage)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDATABASE\tTYPE\tCHAIN\tCREATED\tSIZE\tKEY\tCOPIES\tVERIFIED")
	for _, e := range l.Backups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.ID, e.Database, typeText(e), chainText(e), e.Created.UTC().Format(stamp),
			bytesText(e.CiphertextSize), e.KeyID, len(e.Copies), verifiedText(e))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d %s of cluster %s in %s.\n", len(l.Backups), plural(len(l.Backups), "backup", "backups"), l.Cluster, l.Storage)
	return err
}

func (humanBackup) Describe(w io.Writer, d BackupDescription) error {
	e := d.Backup
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("ID", e.ID)
	row("Cluster", e.Cluster)
	row("Database", e.Database)
	if e.DatabaseID != "" {
		row("Database ID", e.DatabaseID)
	}
	row("Type", typeText(e))
	if e.RequestedType != "" {
		row("Requested type", e.RequestedType)
	}
	row("Format", string(e.Format))
	row("File", e.File)
	row("Object", e.Object)
	row("Chain", e.ChainID)
	if e.Parent != "" {
		row("Parent", e.Parent)
	}
	row("Transactions", fmt.Sprintf("%d..%d", e.LowestTx, e.HighestTx))
	row("Compressed", fmt.Sprint(e.Compressed))
	if e.Neo4jVersion != "" {
		row("Neo4j version", e.Neo4jVersion)
	}
	row("Created", e.Created.UTC().Format(stamp))
	row("Catalogued", e.Catalogued.UTC().Format(stamp))
	row("Plaintext", fmt.Sprintf("%s, sha256 %s", bytesText(e.PlaintextSize), e.PlaintextSHA256))
	row("Stored", fmt.Sprintf("%s encrypted, sha256 %s", bytesText(e.CiphertextSize), e.CiphertextSHA256))
	row("Key", e.KeyID)
	if len(e.Copies) == 0 {
		row("Copies", "none")
	}
	for i, c := range e.Copies {
		k := ""
		if i == 0 {
			k = "Copies"
		}
		fmt.Fprintf(tw, "%s\t%s, sha256 checked %s\n", pad(k), c.URL, c.Verified.UTC().Format(stamp))
	}
	if len(e.Verifications) == 0 {
		row("Verified", "never")
	}
	for i, v := range e.Verifications {
		k := ""
		if i == 0 {
			k = "Verifications"
		}
		line := fmt.Sprintf("%s %s by %s", v.Result, v.Started.UTC().Format(stamp), v.Method)
		if v.Message != "" {
			line += ": " + v.Message
		}
		fmt.Fprintf(tw, "%s\t%s\n", pad(k), line)
	}
	if len(d.RestorePath) > 0 {
		row("Restore replays", strings.Join(d.RestorePath, " → "))
	} else {
		row("Restore", "not restorable: "+d.RestoreProblem)
	}
	return tw.Flush()
}

func pad(k string) string {
	if k == "" {
		return ""
	}
	return k + ":"
}

func (humanBackup) Prune(w io.Writer, p BackupPrune) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	keep, del := 0, 0
	var freed int64
	for _, dd := range p.Plan.Databases {
		d := dd.Decision
		fmt.Fprintf(tw, "%s (daily %d, weekly %d, monthly %d, yearly %d%s):\n", dd.Database, d.Policy.Daily, d.Policy.Weekly, d.Policy.Monthly, d.Policy.Yearly, ageText(d.Policy.MinAge, d.Policy.MaxAge))
		for _, it := range d.Delete {
			fmt.Fprintf(tw, "  - delete\t%s\t%s\t%s\t%s\n", it.ID, it.Type, bytesText(it.Size), ops.Reasons(it.Reasons))
			freed += it.Size
		}
		for _, it := range d.Keep {
			fmt.Fprintf(tw, "    keep\t%s\t%s\t%s\t%s\n", it.ID, it.Type, bytesText(it.Size), ops.Reasons(it.Reasons))
		}
		keep += len(d.Keep)
		del += len(d.Delete)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var err error
	switch {
	case len(p.Plan.Databases) == 0:
		_, err = fmt.Fprintf(w, "Nothing to prune: cluster %s has no backups, or spec.backups.retention is not set.\n", p.Plan.Cluster)
	case p.DryRun:
		_, err = fmt.Fprintf(w, "Prune: %d to delete (%s), %d kept. Dry run: nothing was deleted; run with --apply to delete these.\n", del, bytesText(freed), keep)
	default:
		_, err = fmt.Fprintf(w, "Pruned %d of %d %s (%s), %d kept.\n", p.Deleted, del, plural(del, "backup", "backups"), bytesText(freed), keep)
	}
	return err
}

func ageText(minAge, maxAge time.Duration) string {
	s := ""
	if minAge > 0 {
		s += ", minAge " + minAge.String()
	}
	if maxAge > 0 {
		s += ", maxAge " + maxAge.String()
	}
	return s
}

func typeText(e catalog.Entry) string {
	t := string(e.Type)
	if e.Format == "dump" {
		t += " (dump)"
	}
	if e.FellBack() {
		t += " (DIFF asked)"
	}
	return t
}

// chainText is the chain's full's token: short, and the same on every
// member of the chain.
func chainText(e catalog.Entry) string {
	if i := strings.LastIndex(e.ChainID, "-"); i >= 0 {
		return e.ChainID[i+1:]
	}
	return e.ChainID
}

func verifiedText(e catalog.Entry) string {
	v := e.LastVerification()
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%s %s", v.Result, v.Started.UTC().Format("2006-01-02"))
}

func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
