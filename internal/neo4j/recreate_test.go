package neo4j

import "testing"

func TestRecreateDatabaseStatement(t *testing.T) {
	got, err := RecreateDatabaseStatement("sales", "http://prod-restore-seed.graph.svc:8080/sales.dump", Topology{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "CALL dbms.cluster.recreateDatabase('sales', {seedURI: 'http://prod-restore-seed.graph.svc:8080/sales.dump'})"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	got, err = RecreateDatabaseStatement("sales", "http://x/y.dump", Topology{Primaries: 3, Secondaries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := "CALL dbms.cluster.recreateDatabase('sales', {primaries: 3, secondaries: 1, seedURI: 'http://x/y.dump'})"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	for _, bad := range [][2]string{{"system", "http://x"}, {"sales", ""}, {"a b'c", "http://x"}} {
		if _, err := RecreateDatabaseStatement(bad[0], bad[1], Topology{}); err == nil {
			t.Errorf("RecreateDatabaseStatement(%q, %q): no error", bad[0], bad[1])
		}
	}
}
