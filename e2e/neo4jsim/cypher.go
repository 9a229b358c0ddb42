package neo4jsim

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The simulator understands real Cypher lexical syntax but only the handful of
// statement shapes neo4jctl sends; everything else is a SyntaxError, which is
// what a client would see for a typo on a real server.

type tokKind int

const (
	tkEOF tokKind = iota
	tkIdent
	tkQuoted // `backtick identifier`
	tkString
	tkInt
	tkFloat
	tkParam
	tkPunct
)

type token struct {
	kind tokKind
	text string // identifier / string value / punctuation / number literal
	pos  int    // byte offset of the token start in the query
	end  int
}

// syntaxError is a Cypher syntax error positioned like Neo4j reports it.
type syntaxError struct {
	msg   string
	query string
	pos   int
}

func (e *syntaxError) Error() string {
	line, col := 1, 1
	for i, r := range e.query {
		if i >= e.pos {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%s (line %d, column %d (offset: %d))\n%q\n%s^",
		e.msg, line, col, e.pos, e.query, strings.Repeat(" ", col))
}

func lex(q string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(q) {
		r, w := utf8.DecodeRuneInString(q[i:])
		switch {
		case unicode.IsSpace(r):
			i += w
		case r == '/' && strings.HasPrefix(q[i:], "//"):
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case r == '/' && strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return nil, &syntaxError{msg: "Failed to parse comment. A comment starting on `/*` must have a closing `*/`.", query: q, pos: i}
			}
			i += end + 4
		case r == '\'' || r == '"':
			s, n, err := lexString(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tkString, text: s, pos: i, end: i + n})
			i += n
		case r == '`':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(q) {
					return nil, &syntaxError{msg: "Failed to parse quoted identifier: missing closing backtick", query: q, pos: i}
				}
				if q[j] == '`' {
					if j+1 < len(q) && q[j+1] == '`' { // `` is an escaped backtick
						b.WriteByte('`')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(q[j])
				j++
			}
			toks = append(toks, token{kind: tkQuoted, text: b.String(), pos: i, end: j + 1})
			i = j + 1
		case r == '$':
			j := i + 1
			for j < len(q) {
				r2, w2 := utf8.DecodeRuneInString(q[j:])
				if !(unicode.IsLetter(r2) || unicode.IsDigit(r2) || r2 == '_') {
					break
				}
				j += w2
			}
			name := q[i+1 : j]
			if j < len(q) && q[j] == '`' && j == i+1 { // $`odd name`
				end := strings.IndexByte(q[j+1:], '`')
				if end < 0 {
					return nil, &syntaxError{msg: "Invalid input '$'", query: q, pos: i}
				}
				name = q[j+1 : j+1+end]
				j = j + 2 + end
			}
			if name == "" {
				return nil, &syntaxError{msg: "Invalid input '$': expected a parameter name", query: q, pos: i}
			}
			toks = append(toks, token{kind: tkParam, text: name, pos: i, end: j})
			i = j
		case unicode.IsDigit(r):
			j := i
			isFloat := false
			for j < len(q) && (q[j] >= '0' && q[j] <= '9' || q[j] == '.' && !isFloat && j+1 < len(q) && q[j+1] >= '0' && q[j+1] <= '9') {
				if q[j] == '.' {
					isFloat = true
				}
				j++
			}
			k := tkInt
			if isFloat {
				k = tkFloat
			}
			toks = append(toks, token{kind: k, text: q[i:j], pos: i, end: j})
			i = j
		case unicode.IsLetter(r) || r == '_':
			j := i
			for j < len(q) {
				r2, w2 := utf8.DecodeRuneInString(q[j:])
				if !(unicode.IsLetter(r2) || unicode.IsDigit(r2) || r2 == '_') {
					break
				}
				j += w2
			}
			toks = append(toks, token{kind: tkIdent, text: q[i:j], pos: i, end: j})
			i = j
		case strings.ContainsRune("()[]{},:.*;=-", r):
			toks = append(toks, token{kind: tkPunct, text: string(r), pos: i, end: i + 1})
			i++
		default:
			return nil, &syntaxError{msg: fmt.Sprintf("Invalid input '%c'", r), query: q, pos: i}
		}
	}
	toks = append(toks, token{kind: tkEOF, pos: len(q), end: len(q)})
	return toks, nil
}

// lexString reads a single- or double-quoted Cypher string starting at q[i]
// and returns its value and the number of bytes consumed.
func lexString(q string, i int) (string, int, error) {
	quote := q[i]
	var b strings.Builder
	j := i + 1
	for {
		if j >= len(q) {
			return "", 0, &syntaxError{msg: "Failed to parse string literal. The query must contain an even number of non-escaped quotes.", query: q, pos: i}
		}
		c := q[j]
		if c == quote {
			return b.String(), j + 1 - i, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(q) {
			return "", 0, &syntaxError{msg: "Invalid input '\\'", query: q, pos: j}
		}
		e := q[j+1]
		j += 2
		switch e {
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u', 'U':
			n := 4
			if e == 'U' {
				n = 8
			}
			if j+n > len(q) {
				return "", 0, &syntaxError{msg: "Invalid input: incomplete unicode escape", query: q, pos: j - 2}
			}
			v, err := strconv.ParseUint(q[j:j+n], 16, 32)
			if err != nil {
				return "", 0, &syntaxError{msg: "Invalid input: bad unicode escape", query: q, pos: j - 2}
			}
			b.WriteRune(rune(v))
			j += n
		default:
			return "", 0, &syntaxError{msg: fmt.Sprintf("Invalid input '\\%c'", e), query: q, pos: j - 2}
		}
	}
}

// expr is a literal, a parameter, or a list/map of those — all the
// expressions the supported statements take.
type expr interface {
	eval(params map[string]any) (any, error)
}

type litExpr struct{ v any }

func (e litExpr) eval(map[string]any) (any, error) { return e.v, nil }

type paramExpr struct{ name string }

func (e paramExpr) eval(p map[string]any) (any, error) {
	v, ok := p[e.name]
	if !ok {
		return nil, &cypherError{code: codeParameterMissing, msg: fmt.Sprintf("Expected parameter(s): %s", e.name)}
	}
	return v, nil
}

type listExpr []expr

func (e listExpr) eval(p map[string]any) (any, error) {
	out := make([]any, len(e))
	for i, x := range e {
		v, err := x.eval(p)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

type mapExpr struct {
	keys []string
	vals []expr
}

func (e mapExpr) eval(p map[string]any) (any, error) {
	out := make(map[string]any, len(e.keys))
	for i, k := range e.keys {
		v, err := e.vals[i].eval(p)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

type cmdKind int

const (
	cmdReturn cmdKind = iota + 1
	cmdShowServers
	cmdShowDatabases
	cmdShowSettings
	cmdCall
	cmdEnableServer
	cmdAlterServer
	cmdRenameServer
	cmdDeallocate
	cmdReallocate
	cmdDropServer
	cmdCreateDatabase
	cmdAlterDatabaseTopology
	cmdAlterDatabaseAccess
	cmdDropDatabase
	cmdStartDatabase
	cmdStopDatabase
	// cmdEnd follows the last kind; facts_test.go walks every kind below
	// it and requires a facts-table row for each.
	cmdEnd
)

// isAdmin reports whether the command changes cluster state: those are
// logged always, refused on Community, and need the system database.
func (k cmdKind) isAdmin() bool {
	return k >= cmdEnableServer
}

type returnItem struct {
	e    expr
	name string
}

type yieldItem struct {
	col, alias string
}

// command is a parsed statement.
type command struct {
	kind cmdKind
	verb string // e.g. "ENABLE SERVER", used in logs and error messages

	returns []returnItem

	yieldAll bool
	yield    []yieldItem

	filter     expr   // SHOW DATABASE x, SHOW SETTINGS 'x'
	showWhich  string // "", "DEFAULT", "HOME"
	proc       string
	args       []expr
	servers    []expr // ENABLE/ALTER/RENAME/DROP/DEALLOCATE
	newName    expr
	database   expr
	options    expr
	dryRun     bool
	orReplace  bool
	ifNotExist bool
	ifExists   bool
	topology   bool
	primaries  expr
	secondary  expr
	readOnly   bool
	wait       bool
}

type parser struct {
	q    string
	toks []token
	i    int
}

func parseCypher(q string) (*command, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{q: q, toks: toks}
	c, err := p.statement()
	if err != nil {
		return nil, err
	}
	p.acceptPunct(";")
	if p.peek().kind != tkEOF {
		return nil, p.errExpected("end of input")
	}
	return c, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

func (p *parser) isKw(t token, kws ...string) bool {
	if t.kind != tkIdent {
		return false
	}
	for _, k := range kws {
		if strings.EqualFold(t.text, k) {
			return true
		}
	}
	return false
}

func (p *parser) acceptKw(kws ...string) bool {
	if p.isKw(p.peek(), kws...) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKw(kws ...string) error {
	if !p.acceptKw(kws...) {
		return p.errExpected(strings.Join(kws, " or "))
	}
	return nil
}

func (p *parser) acceptPunct(s string) bool {
	t := p.peek()
	if t.kind == tkPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectPunct(s string) error {
	if !p.acceptPunct(s) {
		return p.errExpected("'" + s + "'")
	}
	return nil
}

func (p *parser) errExpected(what string) error {
	t := p.peek()
	in := p.q[t.pos:t.end]
	if t.kind == tkEOF {
		in = ""
	}
	return &syntaxError{msg: fmt.Sprintf("Invalid input '%s': expected %s", in, what), query: p.q, pos: t.pos}
}

func (p *parser) statement() (*command, error) {
	t := p.peek()
	switch {
	case p.acceptKw("RETURN"):
		return p.returnStmt()
	case p.acceptKw("SHOW"):
		return p.showStmt()
	case p.acceptKw("CALL"):
		return p.callStmt()
	case p.acceptKw("ENABLE"):
		if err := p.expectKw("SERVER"); err != nil {
			return nil, err
		}
		c := &command{kind: cmdEnableServer, verb: "ENABLE SERVER"}
		s, err := p.stringOrParam()
		if err != nil {
			return nil, err
		}
		c.servers = []expr{s}
		if p.acceptKw("OPTIONS") {
			if c.options, err = p.mapOrParam(); err != nil {
				return nil, err
			}
		}
		return c, nil
	case p.acceptKw("RENAME"):
		if err := p.expectKw("SERVER"); err != nil {
			return nil, err
		}
		c := &command{kind: cmdRenameServer, verb: "RENAME SERVER"}
		s, err := p.stringOrParam()
		if err != nil {
			return nil, err
		}
		c.servers = []expr{s}
		if err := p.expectKw("TO"); err != nil {
			return nil, err
		}
		if c.newName, err = p.stringOrParam(); err != nil {
			return nil, err
		}
		return c, nil
	case p.isKw(t, "DRYRUN"), p.isKw(t, "DEALLOCATE"), p.isKw(t, "REALLOCATE"):
		dry := p.acceptKw("DRYRUN")
		if p.acceptKw("REALLOCATE") {
			if err := p.expectKw("DATABASE", "DATABASES"); err != nil {
				return nil, err
			}
			c := &command{kind: cmdReallocate, verb: "REALLOCATE DATABASES", dryRun: dry}
			if dry {
				c.verb = "DRYRUN " + c.verb
			}
			return c, nil
		}
		if err := p.expectKw("DEALLOCATE"); err != nil {
			return nil, err
		}
		if err := p.expectKw("DATABASE", "DATABASES"); err != nil {
			return nil, err
		}
		if err := p.expectKw("FROM"); err != nil {
			return nil, err
		}
		if err := p.expectKw("SERVER", "SERVERS"); err != nil {
			return nil, err
		}
		c := &command{kind: cmdDeallocate, verb: "DEALLOCATE DATABASES", dryRun: dry}
		if dry {
			c.verb = "DRYRUN " + c.verb
		}
		for {
			s, err := p.stringOrParam()
			if err != nil {
				return nil, err
			}
			c.servers = append(c.servers, s)
			if !p.acceptPunct(",") {
				break
			}
		}
		return c, nil
	case p.acceptKw("ALTER"):
		if p.acceptKw("SERVER") {
			c := &command{kind: cmdAlterServer, verb: "ALTER SERVER"}
			s, err := p.stringOrParam()
			if err != nil {
				return nil, err
			}
			c.servers = []expr{s}
			if err := p.expectKw("SET"); err != nil {
				return nil, err
			}
			if err := p.expectKw("OPTIONS"); err != nil {
				return nil, err
			}
			if c.options, err = p.mapOrParam(); err != nil {
				return nil, err
			}
			return c, nil
		}
		if err := p.expectKw("DATABASE", "SERVER"); err != nil {
			return nil, err
		}
		return p.alterDatabase()
	case p.acceptKw("DROP"):
		if p.acceptKw("SERVER") {
			s, err := p.stringOrParam()
			if err != nil {
				return nil, err
			}
			return &command{kind: cmdDropServer, verb: "DROP SERVER", servers: []expr{s}}, nil
		}
		if err := p.expectKw("DATABASE", "SERVER"); err != nil {
			return nil, err
		}
		c := &command{kind: cmdDropDatabase, verb: "DROP DATABASE"}
		var err error
		if c.database, err = p.dbName(); err != nil {
			return nil, err
		}
		if p.acceptKw("IF") {
			if err := p.expectKw("EXISTS"); err != nil {
				return nil, err
			}
			c.ifExists = true
		}
		if p.acceptKw("DUMP", "DESTROY") {
			if err := p.expectKw("DATA"); err != nil {
				return nil, err
			}
		}
		return c, p.waitClause(c)
	case p.acceptKw("CREATE"):
		c := &command{kind: cmdCreateDatabase, verb: "CREATE DATABASE"}
		if p.acceptKw("OR") {
			if err := p.expectKw("REPLACE"); err != nil {
				return nil, err
			}
			c.orReplace = true
		}
		if err := p.expectKw("DATABASE"); err != nil {
			return nil, err
		}
		var err error
		if c.database, err = p.dbName(); err != nil {
			return nil, err
		}
		if p.acceptKw("IF") {
			if err := p.expectKw("NOT"); err != nil {
				return nil, err
			}
			if err := p.expectKw("EXISTS"); err != nil {
				return nil, err
			}
			c.ifNotExist = true
		}
		if p.acceptKw("TOPOLOGY") {
			if err := p.topologyClause(c); err != nil {
				return nil, err
			}
		}
		if p.acceptKw("OPTIONS") {
			if c.options, err = p.mapOrParam(); err != nil {
				return nil, err
			}
		}
		return c, p.waitClause(c)
	case p.acceptKw("START"), p.acceptKw("STOP"):
		c := &command{kind: cmdStartDatabase, verb: "START DATABASE"}
		if p.isKw(t, "STOP") {
			c.kind, c.verb = cmdStopDatabase, "STOP DATABASE"
		}
		if err := p.expectKw("DATABASE"); err != nil {
			return nil, err
		}
		var err error
		if c.database, err = p.dbName(); err != nil {
			return nil, err
		}
		return c, p.waitClause(c)
	}
	return nil, p.errExpected("ALTER, CALL, CREATE, DEALLOCATE, DROP, DRYRUN, ENABLE, REALLOCATE, RENAME, RETURN, SHOW, START or STOP")
}

func (p *parser) alterDatabase() (*command, error) {
	c := &command{verb: "ALTER DATABASE"}
	var err error
	if c.database, err = p.dbName(); err != nil {
		return nil, err
	}
	if p.acceptKw("IF") {
		if err := p.expectKw("EXISTS"); err != nil {
			return nil, err
		}
		c.ifExists = true
	}
	if err := p.expectKw("SET"); err != nil {
		return nil, err
	}
	switch {
	case p.acceptKw("TOPOLOGY"):
		c.kind = cmdAlterDatabaseTopology
		if err := p.topologyClause(c); err != nil {
			return nil, err
		}
	case p.acceptKw("ACCESS"):
		c.kind = cmdAlterDatabaseAccess
		if err := p.expectKw("READ"); err != nil {
			return nil, err
		}
		switch {
		case p.acceptKw("ONLY"):
			c.readOnly = true
		case p.acceptKw("WRITE"):
		default:
			return nil, p.errExpected("ONLY or WRITE")
		}
	default:
		return nil, p.errExpected("ACCESS or TOPOLOGY")
	}
	return c, p.waitClause(c)
}

func (p *parser) topologyClause(c *command) error {
	c.topology = true
	for range 2 {
		n, err := p.intOrParam()
		if err != nil {
			return err
		}
		switch {
		case p.acceptKw("PRIMARY", "PRIMARIES"):
			if c.primaries != nil {
				return p.errExpected("SECONDARY or SECONDARIES")
			}
			c.primaries = n
		case p.acceptKw("SECONDARY", "SECONDARIES"):
			if c.secondary != nil {
				return p.errExpected("PRIMARY or PRIMARIES")
			}
			c.secondary = n
		default:
			return p.errExpected("PRIMARY, PRIMARIES, SECONDARY or SECONDARIES")
		}
		t := p.peek()
		if !(t.kind == tkInt || t.kind == tkParam) {
			break
		}
	}
	return nil
}

func (p *parser) waitClause(c *command) error {
	switch {
	case p.acceptKw("NOWAIT"):
	case p.acceptKw("WAIT"):
		c.wait = true
		if p.peek().kind == tkInt {
			p.next()
			p.acceptKw("SEC", "SECOND", "SECONDS")
		}
	}
	return nil
}

func (p *parser) returnStmt() (*command, error) {
	c := &command{kind: cmdReturn, verb: "RETURN"}
	for {
		start := p.peek().pos
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		name := strings.TrimSpace(p.q[start:p.toks[p.i-1].end])
		if p.acceptKw("AS") {
			t := p.next()
			if t.kind != tkIdent && t.kind != tkQuoted {
				p.i--
				return nil, p.errExpected("an identifier")
			}
			name = t.text
		}
		c.returns = append(c.returns, returnItem{e: e, name: name})
		if !p.acceptPunct(",") {
			return c, nil
		}
	}
}

func (p *parser) showStmt() (*command, error) {
	c := &command{}
	switch {
	case p.acceptKw("SERVER", "SERVERS"):
		c.kind, c.verb = cmdShowServers, "SHOW SERVERS"
	case p.acceptKw("DATABASES"):
		c.kind, c.verb = cmdShowDatabases, "SHOW DATABASES"
	case p.acceptKw("DEFAULT", "HOME"):
		c.kind, c.verb = cmdShowDatabases, "SHOW DATABASES"
		c.showWhich = strings.ToUpper(p.toks[p.i-1].text)
		if err := p.expectKw("DATABASE"); err != nil {
			return nil, err
		}
	case p.acceptKw("DATABASE"):
		c.kind, c.verb = cmdShowDatabases, "SHOW DATABASES"
		t := p.peek()
		if !p.isKw(t, "YIELD", "WHERE") && t.kind != tkEOF && !(t.kind == tkPunct && t.text == ";") {
			var err error
			if c.filter, err = p.dbName(); err != nil {
				return nil, err
			}
		}
	case p.acceptKw("SETTING", "SETTINGS"):
		c.kind, c.verb = cmdShowSettings, "SHOW SETTINGS"
		t := p.peek()
		if t.kind == tkString || t.kind == tkParam || (t.kind == tkPunct && t.text == "[") {
			var err error
			if t.kind == tkString && p.peekAt(1).kind == tkPunct && p.peekAt(1).text == "," {
				var l listExpr
				for {
					s, err := p.stringOrParam()
					if err != nil {
						return nil, err
					}
					l = append(l, s)
					if !p.acceptPunct(",") {
						break
					}
				}
				c.filter = l
			} else if c.filter, err = p.expr(); err != nil {
				return nil, err
			}
		}
	default:
		return nil, p.errExpected("DATABASE, DATABASES, SERVERS or SETTINGS")
	}
	return c, p.yieldClause(c)
}

func (p *parser) yieldClause(c *command) error {
	if !p.acceptKw("YIELD") {
		return nil
	}
	if p.acceptPunct("*") {
		c.yieldAll = true
		return nil
	}
	for {
		t := p.next()
		if t.kind != tkIdent && t.kind != tkQuoted {
			p.i--
			return p.errExpected("a column name or '*'")
		}
		y := yieldItem{col: t.text, alias: t.text}
		if p.acceptKw("AS") {
			a := p.next()
			if a.kind != tkIdent && a.kind != tkQuoted {
				p.i--
				return p.errExpected("an identifier")
			}
			y.alias = a.text
		}
		c.yield = append(c.yield, y)
		if !p.acceptPunct(",") {
			return nil
		}
	}
}

func (p *parser) callStmt() (*command, error) {
	c := &command{kind: cmdCall, verb: "CALL"}
	var parts []string
	for {
		t := p.next()
		if t.kind != tkIdent && t.kind != tkQuoted {
			p.i--
			return nil, p.errExpected("a procedure name")
		}
		parts = append(parts, t.text)
		if !p.acceptPunct(".") {
			break
		}
	}
	c.proc = strings.Join(parts, ".")
	c.verb = "CALL " + c.proc
	if p.acceptPunct("(") {
		if !p.acceptPunct(")") {
			for {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				c.args = append(c.args, e)
				if p.acceptPunct(")") {
					break
				}
				if err := p.expectPunct(","); err != nil {
					return nil, err
				}
			}
		}
	}
	return c, p.yieldClause(c)
}

func (p *parser) stringOrParam() (expr, error) {
	t := p.next()
	switch t.kind {
	case tkString:
		return litExpr{t.text}, nil
	case tkParam:
		return paramExpr{t.text}, nil
	}
	p.i--
	return nil, p.errExpected("a string or a parameter")
}

func (p *parser) intOrParam() (expr, error) {
	t := p.next()
	switch t.kind {
	case tkInt:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, &syntaxError{msg: "integer is too large", query: p.q, pos: t.pos}
		}
		return litExpr{n}, nil
	case tkParam:
		return paramExpr{t.text}, nil
	}
	p.i--
	return nil, p.errExpected("an integer or a parameter")
}

func (p *parser) mapOrParam() (expr, error) {
	t := p.peek()
	if t.kind == tkParam {
		p.next()
		return paramExpr{t.text}, nil
	}
	if t.kind == tkPunct && t.text == "{" {
		return p.expr()
	}
	return nil, p.errExpected("a map or a parameter")
}

// dbName reads a database name: a (possibly dotted) identifier, a backtick
// identifier, or a parameter.
func (p *parser) dbName() (expr, error) {
	t := p.next()
	switch t.kind {
	case tkParam:
		return paramExpr{t.text}, nil
	case tkIdent, tkQuoted:
		name := t.text
		// Unquoted database names may contain dots and dashes; the lexer
		// splits them, so glue adjacent pieces back together.
		for {
			sep, nxt := p.peek(), p.peekAt(1)
			if t.kind == tkQuoted || sep.kind != tkPunct || (sep.text != "." && sep.text != "-") ||
				sep.pos != p.toks[p.i-1].end || nxt.pos != sep.end || (nxt.kind != tkIdent && nxt.kind != tkInt) {
				break
			}
			name += p.next().text + p.next().text
		}
		return litExpr{name}, nil
	}
	p.i--
	return nil, p.errExpected("a database name or a parameter")
}

func (p *parser) expr() (expr, error) {
	t := p.next()
	switch t.kind {
	case tkString:
		return litExpr{t.text}, nil
	case tkInt:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, &syntaxError{msg: "integer is too large", query: p.q, pos: t.pos}
		}
		return litExpr{n}, nil
	case tkFloat:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, &syntaxError{msg: "invalid float", query: p.q, pos: t.pos}
		}
		return litExpr{f}, nil
	case tkParam:
		return paramExpr{t.text}, nil
	case tkIdent:
		switch strings.ToUpper(t.text) {
		case "TRUE":
			return litExpr{true}, nil
		case "FALSE":
			return litExpr{false}, nil
		case "NULL":
			return litExpr{nil}, nil
		}
	case tkPunct:
		switch t.text {
		case "-":
			n := p.next()
			switch n.kind {
			case tkInt:
				v, err := strconv.ParseInt("-"+n.text, 10, 64)
				if err == nil {
					return litExpr{v}, nil
				}
			case tkFloat:
				v, err := strconv.ParseFloat("-"+n.text, 64)
				if err == nil {
					return litExpr{v}, nil
				}
			}
			p.i--
			return nil, p.errExpected("a number")
		case "[":
			var l listExpr
			if p.acceptPunct("]") {
				return l, nil
			}
			for {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				l = append(l, e)
				if p.acceptPunct("]") {
					return l, nil
				}
				if err := p.expectPunct(","); err != nil {
					return nil, err
				}
			}
		case "{":
			var m mapExpr
			if p.acceptPunct("}") {
				return m, nil
			}
			for {
				k := p.next()
				if k.kind != tkIdent && k.kind != tkQuoted && k.kind != tkString {
					p.i--
					return nil, p.errExpected("a map key")
				}
				if err := p.expectPunct(":"); err != nil {
					return nil, err
				}
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				m.keys = append(m.keys, k.text)
				m.vals = append(m.vals, e)
				if p.acceptPunct("}") {
					return m, nil
				}
				if err := p.expectPunct(","); err != nil {
					return nil, err
				}
			}
		}
	}
	p.i--
	return nil, p.errExpected("an expression")
}
