package views

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// renderRecovery writes status's Backups section: per database its last
// backup and last verified restore (issue 16: "status shows last backup,
// last verified restore"). Nothing when the cluster file has no backups.
func renderRecovery(b *strings.Builder, st styles, rs []healthcheck.RecoveryOverview) {
	if len(rs) == 0 {
		return
	}
	b.WriteString("\n" + st.header("Backups") + "\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DATABASE\tLAST BACKUP\tLAST VERIFIED RESTORE\tOF BACKUP\tLAST VERIFICATION")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Database, statusDash(r.LastBackup), statusDash(r.LastVerifiedRestore),
			statusDash(r.LastVerifiedBackup), statusDash(r.LastVerification))
	}
	tw.Flush()
}
