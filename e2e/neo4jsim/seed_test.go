package neo4jsim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSeedFailsWhenTheDatabaseStarts: CREATE DATABASE with a seed nobody
// serves succeeds (the statement only records the seed) and the database
// is then offline with "Unable to start database" on every allocation;
// with a seed that is served it is online. recreateDatabase replaces an
// existing database's store the same way.
func TestSeedFailsWhenTheDatabaseStarts(t *testing.T) {
	seed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sales.dump" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("DUMP"))
	}))
	defer seed.Close()
	s := startSim(t, Config{Servers: 3})
	d := newDriver(t, s.URI("bolt"), testPassword)
	status := func(db string) (states []string, msgs []string) {
		t.Helper()
		for _, r := range mustRun(t, d, "SHOW DATABASE "+db+" YIELD currentStatus, statusMessage", nil) {
			states = append(states, r["currentStatus"].(string))
			msgs = append(msgs, r["statusMessage"].(string))
		}
		return states, msgs
	}

	// Unreadable: the statement succeeds, the database does not start.
	if _, err := run(t, d, "CREATE DATABASE lost TOPOLOGY 3 PRIMARIES OPTIONS {existingData: 'use', seedURI: '"+seed.URL+"/gone.dump'} WAIT", nil); err != nil {
		t.Fatalf("CREATE with an unreadable seed failed at CREATE: %v (the manual: only when the database starts)", err)
	}
	states, msgs := status("lost")
	if len(states) != 3 || strings.Join(states, ",") != "offline,offline,offline" || !strings.HasPrefix(msgs[0], "Unable to start database `DatabaseId{") {
		t.Errorf("unreadable seed: states %v messages %v, want offline with Unable to start database", states, msgs)
	}

	// Readable: online everywhere, the option recorded.
	mustRun(t, d, "CREATE DATABASE sales TOPOLOGY 3 PRIMARIES OPTIONS {existingData: 'use', seedURI: '"+seed.URL+"/sales.dump'} WAIT", nil)
	if states, msgs := status("sales"); strings.Join(states, ",") != "online,online,online" {
		t.Errorf("readable seed: states %v messages %v, want online", states, msgs)
	}

	// recreate: an unreadable seed takes an online database offline;
	// a readable one brings it back.
	mustRun(t, d, "CALL dbms.cluster.recreateDatabase('sales', {seedURI: '"+seed.URL+"/gone.dump'})", nil)
	if states, _ := status("sales"); strings.Join(states, ",") != "offline,offline,offline" {
		t.Errorf("recreate from an unreadable seed: states %v, want offline", states)
	}
	mustRun(t, d, "CALL dbms.cluster.recreateDatabase('sales', {seedURI: '"+seed.URL+"/sales.dump'})", nil)
	// Asynchronous, as a store copy is: store copying, then online.
	waitFor(t, "sales online after recreate", func() bool {
		states, _ := status("sales")
		return strings.Join(states, ",") == "online,online,online"
	})
	if _, err := run(t, d, "CALL dbms.cluster.recreateDatabase('nosuch', {seedURI: '"+seed.URL+"/sales.dump'})", nil); err == nil {
		t.Error("recreate of a database that does not exist: no error")
	}
}
