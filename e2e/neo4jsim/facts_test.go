package neo4jsim

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateFacts = flag.Bool("update-facts", false, "rewrite the facts table in docs/neo4j.md")

// sources returns the simulator's non-test Go files, by name.
func sources(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = string(b)
	}
	return out
}

var (
	// A "fact: key" tag in a comment names the row a piece of code follows.
	factTagRE = regexp.MustCompile(`fact: ([a-z0-9][a-z0-9./-]*[a-z0-9])`)
	// Neo4j status codes and GQL statuses written as string literals.
	neoCodeRE = regexp.MustCompile(`"(Neo\.(?:ClientError|TransientError|DatabaseError)\.[A-Za-z]+\.[A-Za-z]+)"`)
	gqlRE     = regexp.MustCompile(`"([0-9]{2}N[0-9A-Z]{2}|[0-9]{5})"`)
	// The procedures call() answers: its case labels.
	procRE = regexp.MustCompile(`case "(dbms\.[a-z.]+)"`)
)

// TestEveryModelledBehaviourHasAFact fails when the simulator answers a
// statement, a procedure or with a status code that has no row in the
// facts table, when code names a row that does not exist, and when a
// behaviour row is followed by no code at all.
func TestEveryModelledBehaviourHasAFact(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Facts {
		if seen[f.Key] {
			t.Errorf("facts table: %q twice", f.Key)
		}
		seen[f.Key] = true
		if f.Models == "" || f.Source == "" {
			t.Errorf("facts table: %q lacks what it models or its source", f.Key)
		}
	}
	need := func(key, why string) {
		t.Helper()
		if _, ok := LookupFact(key); !ok {
			t.Errorf("%s has no row %q in the facts table (facts.go)", why, key)
		}
	}
	for k := cmdReturn; k < cmdEnd; k++ {
		keys, ok := statementFacts[k]
		if !ok {
			t.Errorf("statement kind %d has no entry in statementFacts", k)
		}
		for _, key := range keys {
			need(key, "statement kind")
		}
	}
	tagged := map[string]bool{}
	for name, src := range sources(t) {
		for _, m := range factTagRE.FindAllStringSubmatch(src, -1) {
			need(m[1], name+": tag")
			tagged[m[1]] = true
		}
		for _, m := range neoCodeRE.FindAllStringSubmatch(src, -1) {
			need("status/"+m[1], name+": status code")
		}
		for _, m := range gqlRE.FindAllStringSubmatch(src, -1) {
			need("status/"+m[1], name+": GQL status")
		}
		if name == "exec.go" {
			procs := procRE.FindAllStringSubmatch(src, -1)
			if len(procs) == 0 {
				t.Errorf("exec.go: no procedure case labels found; update procRE")
			}
			for _, m := range procs {
				need("procedure/"+m[1], "exec.go: procedure")
			}
		}
	}
	for _, f := range Facts {
		kind, _, found := strings.Cut(f.Key, "/")
		if found && slices.Contains([]string{"statement", "procedure", "status"}, kind) {
			continue
		}
		if !tagged[f.Key] {
			t.Errorf("facts table row %q is followed by no code (no \"fact: %s\" tag)", f.Key, f.Key)
		}
	}
}

const (
	factsBegin = "<!-- facts:begin (generated from e2e/neo4jsim/facts.go: go test ./e2e/neo4jsim -run TestFactsDoc -args -update-facts) -->\n"
	factsEnd   = "<!-- facts:end -->"
)

// TestFactsDoc keeps the human page, docs/neo4j.md, in step with the table.
func TestFactsDoc(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "neo4j.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, factsBegin), strings.Index(doc, factsEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: facts markers missing", path)
	}
	want := doc[:i] + factsBegin + FactsMarkdown() + doc[j:]
	if want == doc {
		return
	}
	if *updateFacts {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the facts table differs from facts.go; run go test ./e2e/neo4jsim -run TestFactsDoc -args -update-facts", path)
}
