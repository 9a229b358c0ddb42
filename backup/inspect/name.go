package inspect

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/internal/lazyre"
)

// Format is the kind of file neo4j-admin wrote.
type Format string

const (
	// FormatBackup is an online backup artifact, `<db>-<timestamp>.backup`
	// (Operations Manual 5, backup-restore/online-backup.adoc, "Backup
	// artifact"; the timestamp layout is the one in inspect.adoc "Examples").
	FormatBackup Format = "backup"
	// FormatDump is an offline dump, `<db>.dump` (backup-restore/offline-backup.adoc,
	// "Command": "a single-file archive, called <database>.dump").
	FormatDump Format = "dump"
)

// NameTimeLayout is the timestamp in a backup artifact's file name, e.g.
// london-2024-10-07T16-03-51.backup. The manual's examples show it equal to
// the TIME (UTC) column of inspect, so it is read as UTC.
const NameTimeLayout = "2006-01-02T15-04-05"

// Name is what an artifact's file name says.
type Name struct {
	Database string
	// Time is when the backup was taken, from the name; zero for a dump,
	// whose name carries no time.
	Time   time.Time
	Format Format
}

var backupName = lazyre.New(`^(.+)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})\.backup$`)

// dbName is the character set Neo4j 5 allows in a database name (ASCII
// letters, digits, dots and dashes; Operations Manual 5,
// database-administration/standard-databases/naming-databases.adoc). Names are
// matched loosely here (underscores too) because this only has to keep names
// usable in object keys; Neo4j enforces its own rules.
var dbName = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ParseName reads an artifact's file name; a directory or URL prefix
// (file:///backups/…, s3://bucket/…) is ignored.
func ParseName(name string) (Name, error) {
	base := path.Base(strings.TrimSpace(name))
	switch {
	case strings.HasSuffix(base, ".backup"):
		m := backupName.FindStringSubmatch(base)
		if m == nil {
			return Name{}, fmt.Errorf("%q: not a backup artifact name (want <database>-YYYY-MM-DDTHH-MM-SS.backup)", base)
		}
		t, err := time.ParseInLocation(NameTimeLayout, m[2], time.UTC)
		if err != nil {
			return Name{}, fmt.Errorf("%q: timestamp %q: %v", base, m[2], err)
		}
		if !dbName.MatchString(m[1]) {
			return Name{}, fmt.Errorf("%q: database name %q has characters Neo4j does not allow", base, m[1])
		}
		return Name{Database: m[1], Time: t, Format: FormatBackup}, nil
	case strings.HasSuffix(base, ".dump"):
		db := strings.TrimSuffix(base, ".dump")
		if !dbName.MatchString(db) {
			return Name{}, fmt.Errorf("%q: not a dump name (want <database>.dump)", base)
		}
		return Name{Database: db, Format: FormatDump}, nil
	}
	return Name{}, fmt.Errorf("%q: not a Neo4j artifact (want <database>-<timestamp>.backup or <database>.dump)", base)
}

// String is the file name neo4j-admin gives the artifact.
func (n Name) String() string {
	if n.Format == FormatDump {
		return n.Database + ".dump"
	}
	return n.Database + "-" + n.Time.UTC().Format(NameTimeLayout) + ".backup"
}
