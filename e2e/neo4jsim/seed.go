package neo4jsim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Seeding a database from a URI (CREATE DATABASE … OPTIONS {existingData:
// 'use', seedURI: …}, CALL dbms.cluster.recreateDatabase(…, {seedURI: …})).
//
// fact: database.seed-from-uri — the statement only records the seed: it
// succeeds whatever the URI, and the seed is read when the database
// starts. An unreadable seed leaves every allocation offline with the
// statusMessage "Unable to start database `DatabaseId{…}`"; nothing about
// it reaches the client of CREATE.

// SeedReader reads a seed URI the way a server's seed provider would; a
// nil error means the seed is readable.
type SeedReader func(ctx context.Context, uri string) error

var seedReaders sync.Map // *Simulator → SeedReader

// SetSeedReader replaces how this simulator reads seed URIs. Tests on the
// control plane use it to say that an in-cluster URL is readable when the
// Pod serving it is Ready (the simulator is not inside the cluster's
// network); the default is DefaultSeedReader.
func (s *Simulator) SetSeedReader(r SeedReader) { seedReaders.Store(s, r) }

// DefaultSeedReader reads http(s) URIs with a GET (status 200) and file
// URIs with a stat; any other scheme has no provider here and fails.
func DefaultSeedReader(ctx context.Context, uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "http", "https":
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	case "file":
		_, err := os.Stat(u.Path)
		return err
	}
	return fmt.Errorf("no seed provider for scheme %q in the simulator", u.Scheme)
}

func (s *Simulator) seedReader() SeedReader {
	if r, ok := seedReaders.Load(s); ok {
		return r.(SeedReader)
	}
	return DefaultSeedReader
}

// seed reads db's seed, if its options name one, as the database starts:
// a failure puts the database offline with the manual's status message.
// Called with s.mu held, from CREATE DATABASE and recreate.
func (s *Simulator) seed(db *simDatabase, uri string) {
	if uri == "" {
		return
	}
	// fact: database.seed-from-uri
	if err := s.seedReader()(context.Background(), uri); err != nil {
		db.statusMsg = fmt.Sprintf("Unable to start database `DatabaseId{%s[%s]}`", strings.ToLower(db.id[:8]), db.name)
		return
	}
	db.statusMsg = ""
}

// seedURIOf is the seedURI option of CREATE DATABASE's OPTIONS map.
func seedURIOf(options map[string]any) string {
	u, _ := options["seedURI"].(string)
	return u
}

// recreateDatabase is dbms.cluster.recreateDatabase(name, options):
// every allocation's store is replaced from the seed (or, without one,
// from the current allocations) and the database is started whatever its
// state was; privileges are kept (fact: procedure/dbms.cluster.recreatedatabase).
func (s *Simulator) recreateDatabase(name any, options any) (*result, *cypherError) {
	n, _ := name.(string)
	db := s.dbs[n]
	if db == nil || n == "system" {
		return nil, databaseNotFound("recreate", n)
	}
	opts, _ := options.(map[string]any)
	uri, _ := opts["seedURI"].(string)
	if _, has := opts["seedingServers"]; has && uri != "" {
		if l, _ := opts["seedingServers"].([]any); len(l) > 0 {
			return nil, procedureCallFailed("dbms.cluster.recreateDatabase", "seedingServers and seedURI cannot both be given")
		}
	}
	p, sec := db.primaries, db.secondaries
	if v, ok := opts["primaries"]; ok {
		x, err := intArg(v, "primaries")
		if err != nil {
			return nil, err
		}
		p = x
	}
	if v, ok := opts["secondaries"]; ok {
		x, err := intArg(v, "secondaries")
		if err != nil {
			return nil, err
		}
		sec = x
	}
	readyAt := s.now().Add(s.cfg.TransitionDelay)
	allocs, msg := s.place(n, nil, p, sec, nil, readyAt)
	if msg != "" {
		return nil, topologyError(fmt.Sprintf("Could not recreate database '%s'.", n), msg)
	}
	now := s.now()
	db.primaries, db.secondaries, db.allocs = p, sec, allocs
	db.stopped, db.statusMsg, db.started, db.txn = false, "", now, 2
	db.id = strings.ToUpper(strings.ReplaceAll(newUUID(), "-", ""))
	if uri != "" {
		if db.options == nil {
			db.options = map[string]any{}
		}
		db.options["seedURI"] = uri
	}
	s.electLeader(db)
	s.seed(db, uri)
	return &result{}, nil
}
