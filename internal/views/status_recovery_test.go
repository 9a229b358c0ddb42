package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/healthcheck"
)

// status prints each database's last backup and last verified restore.
func TestStatusViewRecovery(t *testing.T) {
	o := &healthcheck.Overview{Cluster: "graph/prod", Edition: "community", Health: healthReport(),
		Recovery: []healthcheck.RecoveryOverview{
			{Database: "neo4j", LastBackup: "2026-12-07T11:00:00Z", LastVerifiedRestore: "2026-12-06T11:00:00Z", LastVerifiedBackup: "graph/neo4j/a", LastVerification: "failed"},
			{Database: "system", LastBackup: "2026-12-07T11:00:00Z"},
		}}
	v, _ := NewStatusView(FormatHuman, false)
	var b bytes.Buffer
	if err := v.Render(&b, []*healthcheck.Overview{o}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Backups\nDATABASE  LAST BACKUP           LAST VERIFIED RESTORE  OF BACKUP      LAST VERIFICATION\n",
		"neo4j     2026-12-07T11:00:00Z  2026-12-06T11:00:00Z   graph/neo4j/a  failed\n",
		"system    2026-12-07T11:00:00Z  -                      -              -\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("got\n%s\nwant it to contain %q", b.String(), want)
		}
	}
	// Without spec.backups there is no section.
	o.Recovery = nil
	b.Reset()
	if err := v.Render(&b, []*healthcheck.Overview{o}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "LAST BACKUP") {
		t.Errorf("a Backups section without backups:\n%s", b.String())
	}
}
