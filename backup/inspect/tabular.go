package inspect

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Type is the kind of artifact as neo4j-admin produced it (the FULL column),
// which may differ from the --type asked for.
type Type string

const (
	Full Type = "FULL"
	Diff Type = "DIFF"
)

// Artifact is one row of `neo4j-admin backup inspect --show-metadata`. The
// fields are the metadata the Operations Manual lists (5,
// backup-restore/inspect.adoc, "Command"): database, database ID, time, full,
// compressed, lowest and highest transaction ID; plus recovered (2025.06+).
type Artifact struct {
	// File is the FILE column as printed: a URI such as
	// file:///backups/neo4j-2024-10-07T16-05-37.backup.
	File       string
	Database   string
	DatabaseID string
	// Time is the TIME (UTC) column.
	Time       time.Time
	Type       Type
	Compressed bool
	// LowestTx is 1 for a full backup and the first transaction a
	// differential starts with; HighestTx the last transaction it holds. An
	// empty backup (taken when there was nothing new) shows 0 and 0
	// (inspect.adoc, "Listing the metadata of the backup files").
	LowestTx  int64
	HighestTx int64
	// Recovered is nil when the output has no RECOVERED column (5.26 has
	// none; 2025.06 added it).
	Recovered *bool
	// Line is the row's line number in the output, for error messages.
	Line int
}

// Empty reports an empty differential: a backup recorded for history that
// holds no transaction.
func (a Artifact) Empty() bool {
	return a.Type == Diff && a.LowestTx == 0 && a.HighestTx == 0
}

// Column names of the tabular output (inspect.adoc, "Examples").
const (
	colFile       = "FILE"
	colDatabase   = "DATABASE"
	colDatabaseID = "DATABASE ID"
	colTime       = "TIME (UTC)"
	colFull       = "FULL"
	colCompressed = "COMPRESSED"
	colLowestTx   = "LOWEST TX"
	colHighestTx  = "HIGHEST TX"
	colRecovered  = "RECOVERED"
)

var requiredColumns = []string{colFile, colDatabase, colDatabaseID, colTime, colFull, colCompressed, colLowestTx, colHighestTx}

// inspectTimeLayout is the TIME (UTC) column, e.g. 2024-10-07T16:05:37.
const inspectTimeLayout = "2006-01-02T15:04:05"

// ParseTabular reads the output of
// `neo4j-admin backup inspect --show-metadata --format=TABULAR`. src names
// the output in error messages (`src:line: COLUMN: problem (fix)`). Lines
// that are not table rows (log lines, warnings) are skipped; the first row
// is the header and names the columns, in any order. Every error in the
// output is reported, not only the first.
func ParseTabular(src string, r io.Reader) ([]Artifact, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var (
		header []string
		index  map[string]int
		out    []Artifact
		errs   []string
		line   int
	)
	fail := func(line int, col, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s:%d: %s: %s", src, line, col, fmt.Sprintf(format, args...)))
	}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, "|") {
			continue
		}
		cells := splitRow(text)
		if header == nil {
			header = cells
			index = map[string]int{}
			for i, h := range cells {
				index[strings.ToUpper(h)] = i
			}
			for _, c := range requiredColumns {
				if _, ok := index[c]; !ok {
					fail(line, c, "column missing from the header (run `neo4j-admin backup inspect --show-metadata --format=TABULAR`, Neo4j 5.25+)")
				}
			}
			if len(errs) > 0 {
				return nil, joinErrors(errs)
			}
			continue
		}
		if len(cells) != len(header) {
			fail(line, "row", "%d cells, the header has %d (was the output cut or wrapped?)", len(cells), len(header))
			continue
		}
		cell := func(c string) string { return cells[index[c]] }
		a := Artifact{File: cell(colFile), Database: cell(colDatabase), DatabaseID: cell(colDatabaseID), Line: line}
		before := len(errs)
		if a.File == "" {
			fail(line, colFile, "empty")
		}
		if a.Database == "" {
			fail(line, colDatabase, "empty")
		}
		if t, err := time.ParseInLocation(inspectTimeLayout, cell(colTime), time.UTC); err != nil {
			fail(line, colTime, "%q is not YYYY-MM-DDTHH:MM:SS", cell(colTime))
		} else {
			a.Time = t
		}
		if full, ok := parseBool(cell(colFull)); !ok {
			fail(line, colFull, "%q is not true or false", cell(colFull))
		} else if full {
			a.Type = Full
		} else {
			a.Type = Diff
		}
		if c, ok := parseBool(cell(colCompressed)); !ok {
			fail(line, colCompressed, "%q is not true or false", cell(colCompressed))
		} else {
			a.Compressed = c
		}
		var err error
		if a.LowestTx, err = strconv.ParseInt(cell(colLowestTx), 10, 64); err != nil || a.LowestTx < 0 {
			fail(line, colLowestTx, "%q is not a transaction id", cell(colLowestTx))
		}
		if a.HighestTx, err = strconv.ParseInt(cell(colHighestTx), 10, 64); err != nil || a.HighestTx < 0 {
			fail(line, colHighestTx, "%q is not a transaction id", cell(colHighestTx))
		}
		if len(errs) == before && a.LowestTx > a.HighestTx {
			fail(line, colLowestTx, "%d is above HIGHEST TX %d", a.LowestTx, a.HighestTx)
		}
		if i, ok := index[colRecovered]; ok {
			if rec, ok := parseBool(cells[i]); !ok {
				fail(line, colRecovered, "%q is not true or false", cells[i])
			} else {
				a.Recovered = &rec
			}
		}
		// The file name repeats the database; a disagreement means the
		// columns were misread.
		if a.File != "" && a.Database != "" {
			if n, err := ParseName(a.File); err != nil {
				fail(line, colFile, "%v", err)
			} else if n.Database != a.Database {
				fail(line, colFile, "names database %q, the DATABASE column says %q", n.Database, a.Database)
			}
		}
		if len(errs) == before {
			out = append(out, a)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if header == nil {
		return nil, fmt.Errorf("%s: no inspect table in the output (run `neo4j-admin backup inspect --show-metadata --format=TABULAR`, Neo4j 5.25+)", src)
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return out, nil
}

func splitRow(text string) []string {
	text = strings.TrimSpace(text)
	text = strings.TrimPrefix(text, "|")
	text = strings.TrimSuffix(text, "|")
	parts := strings.Split(text, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

type parseError struct{ lines []string }

func (e *parseError) Error() string { return strings.Join(e.lines, "\n") }

func joinErrors(lines []string) error { return &parseError{lines: lines} }

// Args are the neo4j-admin arguments whose output ParseTabular reads, for
// one artifact file or a directory of them. --empty is included because an
// empty backup (nothing new since the last one) is otherwise left out of the
// listing (inspect.adoc, "Listing the metadata of the backup files"), and
// the agent must catalogue every artifact neo4j-admin wrote. --show-metadata
// is needed before 2025.07 and ignored after (the 2025.x manual, same page,
// "Options").
func Args(path string) []string {
	return []string{"backup", "inspect", "--show-metadata", "--empty", "--format=TABULAR", path}
}
