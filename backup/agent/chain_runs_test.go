package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
)

// TestFourRunsKeepOneChain: as the backup claim keeps a database's chain
// between runs (issue 15, "chains stay differential"), four runs — a full,
// then three differentials, each run finding the earlier artifacts still in
// its directory — store one full and three differentials in one chain, each
// differential's parent the artifact before it, the types as inspect
// reported them; the earlier artifacts are not stored twice.
func TestFourRunsKeepOneChain(t *testing.T) {
	e := newEnv(t, "")
	type art struct {
		file     string
		full     bool
		low, hi  int
		uploaded string
	}
	arts := []art{
		{file: "london-2024-10-07T16-03-51.backup", full: true, low: 1, hi: 5},
		{file: "london-2024-10-08T16-03-51.backup", low: 6, hi: 9},
		{file: "london-2024-10-09T16-03-51.backup", low: 10, hi: 10},
		{file: "london-2024-10-10T16-03-51.backup", low: 11, hi: 14},
	}
	header := "|                                              FILE | DATABASE |                          DATABASE ID |          TIME (UTC) |  FULL | COMPRESSED | LOWEST TX | HIGHEST TX |\n"
	inspectFile := filepath.Join(e.dir, "inspect.txt")
	var log lockedBuffer
	s := e.session(t, &log, time.Now)
	for run := range arts {
		a := &arts[run]
		a.uploaded = write(t, filepath.Join(e.from, a.file), uint64(run+1), 64<<10+run)
		// neo4j-admin backup inspect lists every artifact in --to-path,
		// newest first (the manual's table layout, as londonInspect).
		var b strings.Builder
		b.WriteString(header)
		for i := run; i >= 0; i-- {
			x := arts[i]
			ts := strings.TrimSuffix(strings.TrimPrefix(x.file, "london-"), ".backup")
			ts = ts[:10] + "T" + strings.ReplaceAll(ts[11:], "-", ":")
			fmt.Fprintf(&b, "| file:///backups/%s |   london | d4dae73c-dfef-4d28-88cd-fe6cc88ddca1 | %s | %5t |       true | %9d | %10d |\n", x.file, ts, x.full, x.low, x.hi)
		}
		if err := os.WriteFile(inspectFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		typ := "diff"
		if run == 0 {
			typ = "full"
		}
		res, err := Run(context.Background(), s, Config{FromDir: e.from, InspectFile: inspectFile, RequestedType: typ})
		if err != nil {
			t.Fatalf("run %d: %v\nlog:\n%s", run+1, err, log.String())
		}
		if len(res.Stored) != 1 {
			t.Fatalf("run %d stored %d artifacts, want 1 (the earlier ones are catalogued already)\n%s", run+1, len(res.Stored), log.String())
		}
	}
	entries, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string]catalog.Entry{}
	for _, en := range entries {
		byFile[en.File] = en
	}
	if len(byFile) != 4 {
		t.Fatalf("catalogue has %d artifacts, want 4: %v", len(byFile), byFile)
	}
	full := byFile[arts[0].file]
	if full.Type != catalog.Full {
		t.Fatalf("first run: type %s, want FULL", full.Type)
	}
	prev := full
	for _, a := range arts[1:] {
		en := byFile[a.file]
		if en.Type != catalog.Diff {
			t.Errorf("%s: type %s, want DIFF (as produced)", a.file, en.Type)
		}
		if en.ChainID != full.ID || en.Parent != prev.ID {
			t.Errorf("%s: chain %s parent %s, want chain %s parent %s", a.file, en.ChainID, en.Parent, full.ID, prev.ID)
		}
		prev = en
	}
}
