package neo4jsim

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLexStrings(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"single", `'abc'`, "abc"},
		{"double", `"abc"`, "abc"},
		{"escaped quotes", `'it\'s \"x\"'`, `it's "x"`},
		{"backslash", `'a\\b'`, `a\b`},
		{"newline tab", `'a\nb\tc'`, "a\nb\tc"},
		{"unicode", `'\u00e9\u4e2d'`, "é中"},
		{"other quote inside", `"it's"`, "it's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := lex(tt.in)
			if err != nil {
				t.Fatalf("lex(%s): %v", tt.in, err)
			}
			if toks[0].kind != tkString || toks[0].text != tt.want {
				t.Errorf("lex(%s): got %q, want %q", tt.in, toks[0].text, tt.want)
			}
		})
	}
}

func TestLexErrors(t *testing.T) {
	for _, in := range []string{`'unterminated`, "`open", `'\q'`, `'\u12'`, `RETURN #`} {
		if _, err := lex(in); err == nil {
			t.Errorf("lex(%s): no error", in)
		}
	}
}

func eval(t *testing.T, e expr, params map[string]any) any {
	t.Helper()
	v, err := e.eval(params)
	if err != nil {
		t.Fatalf("eval: %v", err)
	}
	return v
}

func TestParseAdminStatements(t *testing.T) {
	params := map[string]any{"id": "p-id", "opts": map[string]any{"tags": []any{"p"}}, "n": int64(2)}
	tests := []struct {
		in    string
		check func(t *testing.T, c *command)
	}{
		{"enable server 'abc' options {modeConstraint: 'PRIMARY', tags: ['a','b'], allowedDatabases: [\"x\"]}", func(t *testing.T, c *command) {
			want := map[string]any{"modeConstraint": "PRIMARY", "tags": []any{"a", "b"}, "allowedDatabases": []any{"x"}}
			if c.kind != cmdEnableServer || eval(t, c.servers[0], nil) != "abc" {
				t.Errorf("got %+v", c)
			}
			if diff := cmp.Diff(want, eval(t, c.options, nil)); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		}},
		{"ENABLE SERVER $id OPTIONS $opts", func(t *testing.T, c *command) {
			if eval(t, c.servers[0], params) != "p-id" || eval(t, c.options, params) == nil {
				t.Errorf("got %+v", c)
			}
		}},
		{"ALTER SERVER 'n' SET OPTIONS {}", func(t *testing.T, c *command) {
			if c.kind != cmdAlterServer || len(eval(t, c.options, nil).(map[string]any)) != 0 {
				t.Errorf("got %+v", c)
			}
		}},
		{"RENAME SERVER 'a' TO 'b';", func(t *testing.T, c *command) {
			if c.kind != cmdRenameServer || eval(t, c.newName, nil) != "b" {
				t.Errorf("got %+v", c)
			}
		}},
		{"DRYRUN DEALLOCATE DATABASES FROM SERVERS 'id1', 'id2'", func(t *testing.T, c *command) {
			if c.kind != cmdDeallocate || !c.dryRun || len(c.servers) != 2 {
				t.Errorf("got %+v", c)
			}
		}},
		{"deallocate database from server 'id'", func(t *testing.T, c *command) {
			if c.kind != cmdDeallocate || c.dryRun || len(c.servers) != 1 {
				t.Errorf("got %+v", c)
			}
		}},
		{"DRYRUN REALLOCATE DATABASES", func(t *testing.T, c *command) {
			if c.kind != cmdReallocate || !c.dryRun {
				t.Errorf("got %+v", c)
			}
		}},
		{"REALLOCATE DATABASE", func(t *testing.T, c *command) {
			if c.kind != cmdReallocate || c.dryRun {
				t.Errorf("got %+v", c)
			}
		}},
		{"DROP SERVER 'id'", func(t *testing.T, c *command) {
			if c.kind != cmdDropServer {
				t.Errorf("got %+v", c)
			}
		}},
		{"CREATE DATABASE `we``ird` IF NOT EXISTS TOPOLOGY 3 PRIMARIES 1 SECONDARY OPTIONS {existingData: 'use', seedURI: 's3://b/x'} WAIT", func(t *testing.T, c *command) {
			if c.kind != cmdCreateDatabase || eval(t, c.database, nil) != "we`ird" || !c.ifNotExist || !c.wait ||
				eval(t, c.primaries, nil) != int64(3) || eval(t, c.secondary, nil) != int64(1) {
				t.Errorf("got %+v", c)
			}
		}},
		{"CREATE OR REPLACE DATABASE foo.bar TOPOLOGY $n PRIMARIES NOWAIT", func(t *testing.T, c *command) {
			if !c.orReplace || eval(t, c.database, nil) != "foo.bar" || eval(t, c.primaries, params) != int64(2) || c.wait {
				t.Errorf("got %+v", c)
			}
		}},
		{"CREATE DATABASE my-db WAIT 10 SECONDS", func(t *testing.T, c *command) {
			if eval(t, c.database, nil) != "my-db" || !c.wait {
				t.Errorf("got %+v", c)
			}
		}},
		{"ALTER DATABASE `name` SET TOPOLOGY 2 PRIMARIES 0 SECONDARIES", func(t *testing.T, c *command) {
			if c.kind != cmdAlterDatabaseTopology || eval(t, c.secondary, nil) != int64(0) {
				t.Errorf("got %+v", c)
			}
		}},
		{"ALTER DATABASE x SET ACCESS READ ONLY", func(t *testing.T, c *command) {
			if c.kind != cmdAlterDatabaseAccess || !c.readOnly {
				t.Errorf("got %+v", c)
			}
		}},
		{"alter database x if exists set access read write", func(t *testing.T, c *command) {
			if c.kind != cmdAlterDatabaseAccess || c.readOnly || !c.ifExists {
				t.Errorf("got %+v", c)
			}
		}},
		{"DROP DATABASE `name` IF EXISTS DESTROY DATA", func(t *testing.T, c *command) {
			if c.kind != cmdDropDatabase || !c.ifExists {
				t.Errorf("got %+v", c)
			}
		}},
		{"CALL dbms.cluster.statusCheck(['neo4j'], 1000)", func(t *testing.T, c *command) {
			if c.proc != "dbms.cluster.statusCheck" || len(c.args) != 2 {
				t.Errorf("got %+v", c)
			}
		}},
		{"CALL dbms.components() YIELD name, edition AS e", func(t *testing.T, c *command) {
			if diff := cmp.Diff([]yieldItem{{"name", "name"}, {"edition", "e"}}, c.yield, cmp.AllowUnexported(yieldItem{})); diff != "" {
				t.Errorf("yield (-want +got):\n%s", diff)
			}
		}},
		{"SHOW SERVERS YIELD *", func(t *testing.T, c *command) {
			if c.kind != cmdShowServers || !c.yieldAll {
				t.Errorf("got %+v", c)
			}
		}},
		{"SHOW DATABASE `neo4j` YIELD name", func(t *testing.T, c *command) {
			if c.kind != cmdShowDatabases || eval(t, c.filter, nil) != "neo4j" {
				t.Errorf("got %+v", c)
			}
		}},
		{"SHOW SETTINGS 'a', 'b' YIELD *", func(t *testing.T, c *command) {
			if diff := cmp.Diff([]any{"a", "b"}, eval(t, c.filter, nil)); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
		}},
		{"RETURN 1, -2.5 AS f, [1, 'x', null, true] AS l, {a: {b: []}} AS m // trailing comment", func(t *testing.T, c *command) {
			var names []string
			for _, r := range c.returns {
				names = append(names, r.name)
			}
			if diff := cmp.Diff([]string{"1", "f", "l", "m"}, names); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]any{int64(1), "x", nil, true}, eval(t, c.returns[2].e, nil)); diff != "" {
				t.Errorf("list (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]any{"a": map[string]any{"b": []any{}}}, eval(t, c.returns[3].e, nil)); diff != "" {
				t.Errorf("map (-want +got):\n%s", diff)
			}
			if got := eval(t, c.returns[1].e, nil); got != -2.5 {
				t.Errorf("float: got %v", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := parseCypher(tt.in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	for _, in := range []string{
		"", "MATCH (n) RETURN n", "ENABLE SERVER abc", "DEALLOCATE DATABASES FROM 'x'",
		"CREATE DATABASE foo TOPOLOGY PRIMARIES", "ALTER DATABASE foo SET ACCESS READ", "SHOW SERVERS YIELD",
		"RETURN 1 RETURN 2", "ENABLE SERVER 'x' OPTIONS {a: }", "CREATE DATABASE foo TOPOLOGY 1 PRIMARY 1 PRIMARY",
	} {
		_, err := parseCypher(in)
		var se *syntaxError
		if !errors.As(err, &se) {
			t.Errorf("parse(%q): got %v, want a syntax error", in, err)
			continue
		}
		if !strings.Contains(err.Error(), "(line 1, column") {
			t.Errorf("parse(%q): error %q lacks a position", in, err)
		}
	}
}

func TestParamMissing(t *testing.T) {
	c, err := parseCypher("DROP SERVER $nope")
	if err != nil {
		t.Fatal(err)
	}
	_, perr := c.servers[0].eval(map[string]any{})
	var ce *cypherError
	if !errors.As(perr, &ce) || ce.code != codeParameterMissing {
		t.Errorf("got %v, want %s", perr, codeParameterMissing)
	}
}
