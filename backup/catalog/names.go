package catalog

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/backup/inspect"
)

const (
	// CatalogPrefix is where entries live; List the whole of it, or
	// CatalogPrefix+cluster+"/", or CatalogPrefix+cluster+"/"+database+"/".
	CatalogPrefix = "catalog/v1/"
	// ArtifactPrefix is where the encrypted artifacts live.
	ArtifactPrefix = "artifacts/"

	stampLayout  = "20060102T150405Z"
	entrySuffix  = ".json"
	updateInfix  = ".update."
	updateDigits = 6
)

// Name is what an entry's ID says: cluster, database, time, type and token.
type Name struct {
	Cluster  string
	Database string
	Time     time.Time // UTC, whole seconds
	Type     Type
	Token    string
}

// NewToken returns a random token for a new artifact's name.
func NewToken() string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// NewID builds an entry ID; it checks every part.
func NewID(cluster, database string, created time.Time, typ Type, tok string) (string, error) {
	n := Name{Cluster: cluster, Database: database, Time: created.UTC().Truncate(time.Second), Type: typ, Token: tok}
	if err := n.check(); err != nil {
		return "", err
	}
	return n.ID(), nil
}

func (n Name) check() error {
	if !namePart.MatchString(n.Cluster) {
		return fmt.Errorf("cluster %q: want letters, digits, '.', '-', '_' (no '/')", n.Cluster)
	}
	if !namePart.MatchString(n.Database) {
		return fmt.Errorf("database %q: want letters, digits, '.', '-', '_' (no '/')", n.Database)
	}
	if n.Type != Full && n.Type != Diff {
		return fmt.Errorf("type %q: want FULL or DIFF", n.Type)
	}
	if !token.MatchString(n.Token) {
		return fmt.Errorf("token %q: want 4-32 lowercase letters or digits (NewToken)", n.Token)
	}
	if n.Time.IsZero() {
		return fmt.Errorf("time not set")
	}
	return nil
}

func (n Name) stem() string {
	return n.Time.UTC().Format(stampLayout) + "-" + strings.ToLower(string(n.Type)) + "-" + n.Token
}

// ID is <cluster>/<database>/<stem>.
func (n Name) ID() string { return n.Cluster + "/" + n.Database + "/" + n.stem() }

// EntryKey is the key of the entry object.
func (n Name) EntryKey() string { return CatalogPrefix + n.ID() + entrySuffix }

// ArtifactKey is the key of the encrypted artifact.
func (n Name) ArtifactKey(f inspect.Format) string {
	return ArtifactPrefix + n.ID() + "." + string(f) + ".enc"
}

func (n Name) updateKey(seq int) string {
	return CatalogPrefix + n.ID() + updateInfix + fmt.Sprintf("%0*d", updateDigits, seq) + entrySuffix
}

func (n Name) updatePrefix() string { return CatalogPrefix + n.ID() + updateInfix }

// ParseID reads an entry ID.
func ParseID(id string) (Name, error) {
	parts := strings.Split(id, "/")
	if len(parts) != 3 {
		return Name{}, fmt.Errorf("id %q: want <cluster>/<database>/<YYYYMMDDTHHMMSSZ>-<full|diff>-<token>", id)
	}
	stem := strings.SplitN(parts[2], "-", 3)
	if len(stem) != 3 {
		return Name{}, fmt.Errorf("id %q: want <cluster>/<database>/<YYYYMMDDTHHMMSSZ>-<full|diff>-<token>", id)
	}
	t, err := time.Parse(stampLayout, stem[0])
	if err != nil {
		return Name{}, fmt.Errorf("id %q: time %q is not YYYYMMDDTHHMMSSZ", id, stem[0])
	}
	n := Name{Cluster: parts[0], Database: parts[1], Time: t, Type: Type(strings.ToUpper(stem[1])), Token: stem[2]}
	if stem[1] != strings.ToLower(stem[1]) {
		return Name{}, fmt.Errorf("id %q: type must be lowercase", id)
	}
	if err := n.check(); err != nil {
		return Name{}, fmt.Errorf("id %q: %v", id, err)
	}
	return n, nil
}

// parseKey reads a key under CatalogPrefix: the entry's name and, for an
// update object, its number (0 for the entry itself). ok is false for keys
// that are neither.
func parseKey(key string) (n Name, seq int, ok bool) {
	rest, found := strings.CutPrefix(key, CatalogPrefix)
	if !found {
		return Name{}, 0, false
	}
	rest, found = strings.CutSuffix(rest, entrySuffix)
	if !found {
		return Name{}, 0, false
	}
	id := rest
	if i := strings.Index(rest, updateInfix); i >= 0 {
		id = rest[:i]
		num := rest[i+len(updateInfix):]
		if len(num) != updateDigits {
			return Name{}, 0, false
		}
		s, err := strconv.Atoi(num)
		if err != nil || s < 1 {
			return Name{}, 0, false
		}
		seq = s
	}
	n, err := ParseID(id)
	if err != nil {
		return Name{}, 0, false
	}
	return n, seq, true
}
