package inspect

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

type row struct {
	file, db, id, time string
	typ                Type
	low, high          int64
	empty              bool
}

const (
	neo4jID  = "7dcb1d0c-4374-4476-b8ae-d3c3f124683f"
	malmoID  = "62d1820c-3ac6-4b15-a0b3-bf7e7becc8d0"
	londonID = "d4dae73c-dfef-4d28-88cd-fe6cc88ddca1"
)

// The rows of the manual's table (inspect.adoc "Listing the metadata of the
// backup files"), written out by hand from the page.
var manualRows = []row{
	{"neo4j-2024-10-07T16-05-37.backup", "neo4j", neo4jID, "2024-10-07T16:05:37", Full, 1, 3, false},
	{"malmo-2024-10-07T16-01-24.backup", "malmo", malmoID, "2024-10-07T16:01:24", Full, 1, 8, false},
	{"malmo-2024-10-07T16-01-08.backup", "malmo", malmoID, "2024-10-07T16:01:08", Full, 1, 7, false},
	{"malmo-2024-10-07T16-00-50.backup", "malmo", malmoID, "2024-10-07T16:00:50", Diff, 0, 0, true},
	{"malmo-2024-10-07T16-00-44.backup", "malmo", malmoID, "2024-10-07T16:00:44", Diff, 7, 7, false},
	{"malmo-2024-10-07T16-00-34.backup", "malmo", malmoID, "2024-10-07T16:00:34", Diff, 6, 6, false},
	{"malmo-2024-10-07T16-00-19.backup", "malmo", malmoID, "2024-10-07T16:00:19", Diff, 0, 0, true},
	{"malmo-2024-10-07T16-00-07.backup", "malmo", malmoID, "2024-10-07T16:00:07", Full, 1, 5, false},
	{"london-2024-10-07T16-04-05.backup", "london", londonID, "2024-10-07T16:04:05", Diff, 6, 6, false},
	{"london-2024-10-07T16-03-51.backup", "london", londonID, "2024-10-07T16:03:51", Full, 1, 5, false},
}

func parseFile(t *testing.T, name string) []Artifact {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseTabular(name, f)
	if err != nil {
		t.Fatalf("ParseTabular(%s): %v", name, err)
	}
	return got
}

func checkRows(t *testing.T, got []Artifact, want []row, recovered []bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d artifacts, want %d", len(got), len(want))
	}
	for i, w := range want {
		a := got[i]
		if a.File != "file:///backups/"+w.file || a.Database != w.db || a.DatabaseID != w.id ||
			!a.Time.Equal(utc(w.time)) || a.Time.Location() != time.UTC || a.Type != w.typ ||
			!a.Compressed || a.LowestTx != w.low || a.HighestTx != w.high || a.Empty() != w.empty {
			t.Errorf("row %d = %+v, want %+v", i, a, w)
		}
		if a.Line != i+2 {
			t.Errorf("row %d: line %d, want %d", i, a.Line, i+2)
		}
		switch {
		case recovered == nil && a.Recovered != nil:
			t.Errorf("row %d: Recovered = %v, the 5.26 table has no RECOVERED column", i, *a.Recovered)
		case recovered != nil && (a.Recovered == nil || *a.Recovered != recovered[i]):
			t.Errorf("row %d: Recovered = %v, want %v", i, a.Recovered, recovered[i])
		}
		n, err := ParseName(a.File)
		if err != nil || n.Database != w.db || !n.Time.Equal(a.Time) || n.Format != FormatBackup {
			t.Errorf("row %d: ParseName = %+v, %v", i, n, err)
		}
	}
}

func TestParseTabularManual526(t *testing.T) {
	checkRows(t, parseFile(t, "manual-5.26-show-metadata-empty.txt"), manualRows, nil)
	latest := []row{manualRows[0], manualRows[1], manualRows[8]}
	checkRows(t, parseFile(t, "manual-5.26-latest-backup.txt"), latest, nil)
	checkRows(t, parseFile(t, "manual-5.26-latest-chain-london.txt"), manualRows[8:], nil)
}

func TestParseTabularManual2025Recovered(t *testing.T) {
	recovered := []bool{true, true, false, false, false, false, false, true, false, true}
	checkRows(t, parseFile(t, "manual-2025.x-recovered-empty.txt"), manualRows, recovered)
}

// Columns in another order, an extra unknown column and log lines around the
// table still parse: the header names the columns.
func TestParseTabularHeaderDriven(t *testing.T) {
	out := `2024-10-07 16:05:40.000+0000 WARN  some log line
| HIGHEST TX | LOWEST TX | FULL | COMPRESSED | TIME (UTC) | DATABASE ID | DATABASE | FILE | SIZE |
| 3 | 1 | true | false | 2024-10-07T16:05:37 | x | neo4j | s3://bucket/p/neo4j-2024-10-07T16-05-37.backup | 12 |
done.
`
	got, err := ParseTabular("out", strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []Artifact{{File: "s3://bucket/p/neo4j-2024-10-07T16-05-37.backup", Database: "neo4j", DatabaseID: "x",
		Time: utc("2024-10-07T16:05:37"), Type: Full, LowestTx: 1, HighestTx: 3, Line: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseTabularErrors(t *testing.T) {
	const header = "| FILE | DATABASE | DATABASE ID | TIME (UTC) | FULL | COMPRESSED | LOWEST TX | HIGHEST TX |\n"
	cases := []struct {
		name, out string
		want      []string
	}{
		{"no table", "Backup complete.\n", []string{"out: no inspect table"}},
		{"missing column", "| FILE | DATABASE | TIME (UTC) | FULL | LOWEST TX | HIGHEST TX |\n",
			[]string{"out:1: DATABASE ID: column missing", "out:1: COMPRESSED: column missing"}},
		{"every bad cell reported", header +
			"| file:///b/neo4j-2024-10-07T16-05-37.backup | neo4j | x | 2024-10-07 16:05:37 | yes | true | 1 | 3 |\n" +
			"| file:///b/neo4j-2024-10-07T16-05-37.backup | neo4j | x | 2024-10-07T16:05:37 | false | true | 9 | 3 |\n" +
			"| file:///b/neo4j-2024-10-07T16-05-37.backup | neo4j | x | 2024-10-07T16:05:37 | false | true | 1 |\n" +
			"| file:///b/other-2024-10-07T16-05-37.backup | neo4j | x | 2024-10-07T16:05:37 | false | true | -1 | 3 |\n",
			[]string{
				`out:2: TIME (UTC): "2024-10-07 16:05:37" is not YYYY-MM-DDTHH:MM:SS`,
				`out:2: FULL: "yes" is not true or false`,
				"out:3: LOWEST TX: 9 is above HIGHEST TX 3",
				"out:4: row: 7 cells, the header has 8",
				`out:5: LOWEST TX: "-1" is not a transaction id`,
				`out:5: FILE: names database "other", the DATABASE column says "neo4j"`,
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseTabular("out", strings.NewReader(c.out))
			if err == nil {
				t.Fatalf("no error, got %+v", got)
			}
			if got != nil {
				t.Errorf("artifacts returned with an error: %+v", got)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(c.want) {
				t.Errorf("%d error lines, want %d:\n%v", n, len(c.want), err)
			}
		})
	}
}

func TestParseName(t *testing.T) {
	good := []struct {
		in   string
		want Name
	}{
		{"london-2024-10-07T16-03-51.backup", Name{"london", utc("2024-10-07T16:03:51"), FormatBackup}},
		{"/backups/main-db.v2-2024-10-07T16-03-51.backup", Name{"main-db.v2", utc("2024-10-07T16:03:51"), FormatBackup}},
		{"s3://bucket/prefix/system-2025-01-31T23-59-59.backup", Name{"system", utc("2025-01-31T23:59:59"), FormatBackup}},
		{"neo4j.dump", Name{"neo4j", time.Time{}, FormatDump}},
		{"/data/dumps/main-db.dump", Name{"main-db", time.Time{}, FormatDump}},
	}
	for _, g := range good {
		got, err := ParseName(g.in)
		if err != nil || !reflect.DeepEqual(got, g.want) {
			t.Errorf("ParseName(%q) = %+v, %v; want %+v", g.in, got, err, g.want)
			continue
		}
		if base := g.in[strings.LastIndex(g.in, "/")+1:]; got.String() != base {
			t.Errorf("Name.String() = %q, want %q", got.String(), base)
		}
	}
	for _, bad := range []string{"neo4j.backup", "neo4j-2024-10-07.backup", "neo4j-2024-13-07T16-03-51.backup",
		"neo4j-2024-10-07T16:03:51.backup", "neo4j", "neo4j.tar.gz", ".dump", "a/b c.dump"} {
		if got, err := ParseName(bad); err == nil {
			t.Errorf("ParseName(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestArgs(t *testing.T) {
	got := strings.Join(Args("/backups/neo4j-2024-10-07T16-05-37.backup"), " ")
	if got != "backup inspect --show-metadata --empty --format=TABULAR /backups/neo4j-2024-10-07T16-05-37.backup" {
		t.Fatal(got)
	}
}
