package contract

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
)

// Recorded facts the Community simulator does not reproduce, and why. Every
// other recorded error must be answered identically (code, message, GQL
// status, description, classification, diagnostic record, cause).
var (
	// errorsNotModelled are refusals the simulator does not attempt.
	errorsNotModelled = map[string]string{
		"CREATE ROLE":     "role management is not part of neo4jctl; the simulator's parser rejects it as a syntax error",
		"auth rate limit": "the simulator does not lock users after failed logins",
	}
	// messageNotCompared are errors whose message is a real parser's
	// diagnostic the simulator cannot copy; everything else is compared.
	messageNotCompared = map[string]bool{"syntax error": true}
	// queriesNotModelled are reads the simulator does not answer.
	queriesNotModelled = map[string]string{
		"SHOW CURRENT USER": "user management is not part of neo4jctl",
	}
)

// TestSimulatorMatchesRecordedFacts replays the statements of
// testdata/community-5.26.json against the simulator in Community mode and
// compares its answers with what the real server said. It needs no Java, so
// it also runs where the real server cannot (and with -short); the real
// server re-checks the file itself in TestCommunityFacts.
func TestSimulatorMatchesRecordedFacts(t *testing.T) {
	raw, err := os.ReadFile(filepath.FromSlash(factsFile))
	if err != nil {
		t.Fatal(err)
	}
	var facts Facts
	if err := json.Unmarshal(raw, &facts); err != nil {
		t.Fatalf("parse %s: %v", factsFile, err)
	}
	sim, err := neo4jsim.Start(neo4jsim.Config{Community: true, Password: simPassword, Version: facts.Server.Version})
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := neo4j.NewDriverWithContext(sim.URI("bolt"), neo4j.BasicAuth("neo4j", simPassword, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)

	for _, name := range sortedNames(facts.Errors) {
		want := facts.Errors[name]
		t.Run("error/"+name, func(t *testing.T) {
			if why, ok := errorsNotModelled[name]; ok {
				t.Skipf("not modelled: %s", why)
			}
			var got *ErrorFacts
			switch name {
			case "wrong password":
				got = loginError(ctx, sim.URI("bolt"), "neo4j", "wrong-password")
			case "unknown user":
				got = loginError(ctx, sim.URI("bolt"), "nosuchuser", "whatever-pw")
			default:
				_, err := neo4j.ExecuteQuery(ctx, d, want.Statement, nil, neo4j.EagerResultTransformer,
					neo4j.ExecuteQueryWithDatabase(want.Database))
				got = &ErrorFacts{Succeeded: true}
				if err != nil {
					got = errorFacts(err)
				}
				got.Database, got.Statement = want.Database, want.Statement
			}
			got = roundTrip(t, got)
			w := *want
			if messageNotCompared[name] {
				w.Message = got.Message
			}
			if diff := cmp.Diff(&w, got); diff != "" {
				t.Errorf("simulator differs from real %s %s (-real +sim):\n%s", facts.Server.Edition, facts.Server.Version, diff)
			}
		})
	}

	for _, name := range sortedNames(facts.Queries) {
		want := facts.Queries[name]
		t.Run("query/"+name, func(t *testing.T) {
			if why, ok := queriesNotModelled[name]; ok {
				t.Skipf("not modelled: %s", why)
			}
			res, err := neo4j.ExecuteQuery(ctx, d, want.Query, nil, neo4j.EagerResultTransformer,
				neo4j.ExecuteQueryWithDatabase(want.Database))
			if err != nil {
				t.Fatalf("sim: %s: %v", want.Query, err)
			}
			got := queryFacts(want.Database, want.Query, res, want.Rows != nil, "name", sampleNamesOf(name))
			got = roundTrip(t, got)
			if diff := cmp.Diff(want.Keys, got.Keys); diff != "" {
				t.Errorf("columns (-real +sim):\n%s", diff)
			}
			// Small results are compared value for value (volatile columns
			// masked); large ones (settings) by the sampled rows below.
			if want.Rows != nil {
				if diff := cmp.Diff(want.Columns, got.Columns); diff != "" {
					t.Errorf("column types (-real +sim):\n%s", diff)
				}
				if diff := cmp.Diff(want.Rows, got.Rows); diff != "" {
					t.Errorf("rows (-real +sim):\n%s", diff)
				}
			}
			// A sampled name the real server lacks must be missing from the
			// simulator too (Enterprise-only settings); one it has must be
			// there with the same static description. Values depend on the
			// deployment and are not compared.
			for _, n := range sampleNamesOf(name) {
				r, inReal := want.Sample[n]
				s, inSim := got.Sample[n]
				if inReal != inSim {
					t.Errorf("%s: real reports it %v, sim %v", n, inReal, inSim)
					continue
				}
				for _, col := range []string{"description", "validValues", "isDynamic", "dynamic", "isDeprecated"} {
					if _, ok := r[col]; ok && !cmp.Equal(r[col], s[col]) {
						t.Errorf("%s %s: real %q, sim %q", n, col, r[col], s[col])
					}
				}
			}
		})
	}
}

func sampleNamesOf(query string) []string {
	for _, q := range querySpecs {
		if q.name == query {
			return q.sampleNames
		}
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// roundTrip passes v through JSON so it holds the same Go types as facts
// read from the file.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
