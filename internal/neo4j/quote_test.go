package neo4j

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// hostile are user texts that try to change a statement's meaning.
var hostile = []struct {
	name string
	text string
}{
	{name: "plain", text: "server-1"},
	{name: "uuid", text: "8f3c2a57-3b2e-4d0e-9e1c-6a9c1b2d3e4f"},
	{name: "backtick", text: "a`b"},
	{name: "double backtick", text: "``"},
	{name: "backtick breakout", text: "x` RETURN 1 //"},
	{name: "single quote", text: "a'b"},
	{name: "lone quote", text: "'"},
	{name: "double quote", text: `a"b`},
	{name: "backslash", text: `a\b`},
	{name: "trailing backslash", text: `a\`},
	{name: "backslash quote", text: `\'`},
	{name: "newline", text: "line\nbreak"},
	{name: "carriage return", text: "a\r\nb"},
	{name: "tab", text: "tab\there"},
	{name: "nul", text: "a\x00b"},
	{name: "escape sequence", text: "\x1b[31mred"},
	{name: "del", text: "a\x7fb"},
	{name: "unicode", text: "ünïcødé Ωμέγα 名前"},
	{name: "emoji", text: "emoji 😀"},
	{name: "bidi override", text: "abc\u202Edcb"},
	{name: "line separator", text: "a\u2028b"},
	{name: "zero width", text: "a\u200bb\ufeff"},
	{name: "supplementary private use", text: "a\U000F0000b"},
	{name: "map breakout", text: "} RETURN 1 //"},
	{name: "statement breakout", text: "'; DROP DATABASE neo4j //"},
	{name: "double-quote breakout", text: `"; DROP DATABASE neo4j //`},
	{name: "block comment", text: "/* x */"},
	{name: "java unicode quote", text: `\u0027`},
	{name: "java unicode quote breakout", text: `\u0027; DROP DATABASE neo4j //`},
	{name: "java unicode backtick", text: `\u0060`},
	{name: "java unicode many u", text: `\uuuu0027`},
	{name: "escaped java unicode", text: `\\u0027`},
	{name: "java unicode backslash", text: `\u005c`},
	{name: "cypher long escape", text: `\U00000027`},
	{name: "parameter", text: "$param"},
}

func kw(s string) []token {
	var out []token
	for _, f := range strings.Fields(s) {
		out = append(out, token{tKeyword, f})
	}
	return out
}

func p(s string) token   { return token{tPunct, s} }
func lit(s string) token { return token{tString, s} }

func seq(parts ...any) []token {
	var out []token
	for _, part := range parts {
		switch x := part.(type) {
		case token:
			out = append(out, x)
		case []token:
			out = append(out, x...)
		}
	}
	return out
}

// checkShape tokenizes stmt both as written and after Java-style unicode
// pre-processing and requires exactly want both times.
func checkShape(t *testing.T, stmt string, want []token) {
	t.Helper()
	got, err := tokenize(stmt)
	if err != nil {
		t.Fatalf("tokenize %q: %v", stmt, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tokens of %q (-want +got):\n%s", stmt, diff)
	}
	pre, err := javaUnicodePreprocess(stmt)
	if err != nil {
		t.Fatalf("unicode-preprocess %q: %v", stmt, err)
	}
	got, err = tokenizeRunes(pre)
	if err != nil {
		t.Fatalf("tokenize after unicode pre-processing %q: %v", stmt, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tokens of %q after unicode pre-processing (-want +got):\n%s", stmt, diff)
	}
}

func TestHostileTextCannotChangeStatements(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			s := h.text
			build := []struct {
				name  string
				build func() (string, error)
				want  []token
			}{
				{
					name:  "enable server",
					build: func() (string, error) { return EnableServerStatement(s, ServerOptions{Tags: []string{s, "b"}}) },
					want:  seq(kw("ENABLE SERVER"), lit(s), kw("OPTIONS"), p("{"), kw("tags"), p(":"), p("["), lit(s), p(","), lit("b"), p("]"), p("}")),
				},
				{
					name:  "alter server",
					build: func() (string, error) { return AlterServerOptionsStatement(s, ServerOptions{}) },
					want:  seq(kw("ALTER SERVER"), lit(s), kw("SET OPTIONS"), p("{"), kw("modeConstraint"), p(":"), lit("NONE"), p("}")),
				},
				{
					name:  "rename server",
					build: func() (string, error) { return RenameServerStatement(s, s+"2") },
					want:  seq(kw("RENAME SERVER"), lit(s), kw("TO"), lit(s+"2")),
				},
				{
					name:  "cordon server",
					build: func() (string, error) { return CordonServerStatement(s) },
					want:  seq(kw("CALL dbms"), p("."), kw("cluster"), p("."), kw("cordonServer"), p("("), lit(s), p(")")),
				},
				{
					name:  "deallocate",
					build: func() (string, error) { return DeallocateServersStatement(true, s, "x") },
					want:  seq(kw("DRYRUN DEALLOCATE DATABASES FROM SERVERS"), lit(s), p(","), lit("x")),
				},
				{
					name:  "drop server",
					build: func() (string, error) { return DropServerStatement(s) },
					want:  seq(kw("DROP SERVER"), lit(s)),
				},
				{
					name: "create database seed",
					build: func() (string, error) {
						return CreateDatabaseStatement("db1", CreateDatabase{Options: DatabaseOptions{SeedURI: s}})
					},
					want: seq(kw("CREATE DATABASE"), token{tIdent, "db1"}, kw("OPTIONS"), p("{"), kw("seedURI"), p(":"), lit(s), p("}")),
				},
				{
					name: "map literal key and value",
					build: func() (string, error) {
						m, err := MapLiteral(map[string]any{s: s})
						return "RETURN " + m, err
					},
					want: nil, // computed below: the key may be bare or quoted
				},
			}
			for _, b := range build {
				t.Run(b.name, func(t *testing.T) {
					stmt, err := b.build()
					want := b.want
					if want == nil {
						if strings.ContainsRune(s, '\\') || strings.ContainsRune(s, 0) {
							if err == nil {
								t.Fatalf("got %q, want an error: the key cannot be quoted faithfully", stmt)
							}
							return
						}
						key := token{tIdent, s}
						if isSimpleName(s) {
							key = token{tKeyword, s}
						}
						want = seq(kw("RETURN"), p("{"), key, p(":"), lit(s), p("}"))
					}
					if err != nil {
						t.Fatalf("got error %v, want a statement", err)
					}
					checkShape(t, stmt, want)
				})
			}

			t.Run("identifier", func(t *testing.T) {
				q, err := QuoteIdentifier(s)
				if strings.ContainsRune(s, '\\') || strings.ContainsRune(s, 0) {
					if err == nil {
						t.Fatalf("got %s, want an error: a backslash or NUL cannot be named faithfully", q)
					}
					return
				}
				if err != nil {
					t.Fatalf("got error %v, want a quoted identifier", err)
				}
				checkShape(t, "SHOW DATABASE "+q+" YIELD *", seq(kw("SHOW DATABASE"), token{tIdent, s}, kw("YIELD"), p("*")))
			})

			t.Run("database builders reject or quote", func(t *testing.T) {
				stmt, err := DropDatabaseStatement(s, DropDatabase{IfExists: true})
				if ValidateDatabaseName(s) != nil {
					if err == nil {
						t.Fatalf("got %q, want an error for an invalid database name", stmt)
					}
					return
				}
				checkShape(t, stmt, seq(kw("DROP DATABASE"), token{tIdent, s}, kw("IF EXISTS DESTROY DATA")))
			})
		})
	}
}

func TestQuoteString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "empty", in: "", want: `''`},
		{name: "plain", in: "abc", want: `'abc'`},
		{name: "quotes", in: `a'b"c`, want: `'a\'b\"c'`},
		{name: "backslash", in: `a\b`, want: `'a\\b'`},
		{name: "java unicode", in: `\u0027`, want: `'\\u0027'`},
		{name: "short escapes", in: "\b\t\n\f\r", want: `'\b\t\n\f\r'`},
		{name: "control", in: "\x00\x1b\x7f", want: `'\u0000\u001B\u007F'`},
		{name: "printable unicode kept", in: "ü名😀", want: `'ü名😀'`},
		{name: "format char", in: "\u202E", want: `'\u202E'`},
		{name: "non-BMP non-printable as surrogates", in: "\U000F0000", want: `'\uDB80\uDC00'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := QuoteString(tt.in)
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := QuoteString("a\xffb"); err == nil {
		t.Errorf("got no error for invalid UTF-8, want one")
	}
}

func TestQuoteIdentifier(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "plain", in: "neo4j", want: "`neo4j`"},
		{name: "dash", in: "main-db", want: "`main-db`"},
		{name: "backtick doubled", in: "a`b", want: "`a``b`"},
		{name: "only backticks", in: "``", want: "``````"},
		{name: "spaces and quotes", in: `a 'b' "c"`, want: "`a 'b' \"c\"`"},
		{name: "empty", in: "", wantErr: true},
		{name: "backslash", in: `a\b`, wantErr: true},
		{name: "java unicode backtick", in: `\u0060`, wantErr: true},
		{name: "nul", in: "a\x00", wantErr: true},
		{name: "invalid utf8", in: "a\xff", wantErr: true},
		{name: "too long", in: strings.Repeat("a", maxIdentifierLength+1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := QuoteIdentifier(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestValidateDatabaseName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{name: "default", in: "neo4j"},
		{name: "system", in: "system"},
		{name: "dash and dot", in: "sales-2024.eu"},
		{name: "upper case", in: "Sales"},
		{name: "leading digit (2025.01+)", in: "1db"},
		{name: "too short", in: "ab", wantErr: true},
		{name: "too long", in: strings.Repeat("a", 64), wantErr: true},
		{name: "max length", in: strings.Repeat("a", 63)},
		{name: "underscore", in: "my_db", wantErr: true},
		{name: "leading dash", in: "-db", wantErr: true},
		{name: "trailing dot", in: "db.", wantErr: true},
		{name: "trailing dash", in: "db-", wantErr: true},
		{name: "reserved prefix", in: "system2", wantErr: true},
		{name: "space", in: "my db", wantErr: true},
		{name: "backtick", in: "a`bc", wantErr: true},
		{name: "unicode", in: "dbé", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateDatabaseName(tt.in)
			if (err != nil) != tt.wantErr {
				t.Errorf("got error %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    string
		wantErr bool
	}{
		{name: "null", in: nil, want: "null"},
		{name: "bool", in: true, want: "true"},
		{name: "int", in: 3, want: "3"},
		{name: "negative int64", in: int64(-7), want: "-7"},
		{name: "float keeps a point", in: 2.0, want: "2.0"},
		{name: "float", in: 0.25, want: "0.25"},
		{name: "string", in: "it's", want: `'it\'s'`},
		{name: "strings", in: []string{"a", "b"}, want: "['a', 'b']"},
		{name: "empty list", in: []string{}, want: "[]"},
		{name: "mixed list", in: []any{1, "x", nil}, want: "[1, 'x', null]"},
		{name: "sorted map", in: map[string]any{"b": 1, "a": "x", "my key": true}, want: "{a: 'x', b: 1, `my key`: true}"},
		{name: "nested", in: map[string]any{"m": map[string]any{"k": []string{"v"}}}, want: "{m: {k: ['v']}}"},
		{name: "datetime", in: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC), want: "datetime('2025-01-02T03:04:05.000000006Z')"},
		{name: "unsupported", in: struct{}{}, wantErr: true},
		{name: "nan", in: func() float64 { z := 0.0; return z / z }(), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Literal(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
