package neo4jsim

import (
	"regexp"
)

// alterCurrentUserRE matches ALTER CURRENT USER SET PASSWORD FROM old TO
// new, each a string literal or a parameter.
// fact: user.alter-current-password
var alterCurrentUserRE = regexp.MustCompile(`(?is)^\s*ALTER\s+CURRENT\s+USER\s+SET\s+PASSWORD\s+FROM\s+(\$[A-Za-z_][A-Za-z0-9_]*|'(?:[^'\\]|\\.)*')\s+TO\s+(\$[A-Za-z_][A-Za-z0-9_]*|'(?:[^'\\]|\\.)*')\s*;?\s*$`)

// alterCurrentUser runs ALTER CURRENT USER SET PASSWORD when query is one;
// handled is false otherwise. The simulator has one user (Config.User):
// the statement changes the password new connections must present, and
// connections already authenticated stay so, as SetPassword. The
// passwords are replaced by "***" in the statement log.
// fact: user.alter-current-password
func (s *Simulator) alterCurrentUser(db, query string, params map[string]any, st *Statement) (res *result, handled bool, err *cypherError) {
	m := alterCurrentUserRE.FindStringSubmatch(query)
	if m == nil {
		return nil, false, nil
	}
	st.Command = "ALTER CURRENT USER SET PASSWORD"
	st.Query = "ALTER CURRENT USER SET PASSWORD FROM *** TO ***"
	if params != nil {
		red := make(map[string]any, len(params))
		for k := range params {
			red[k] = "***"
		}
		st.Params = red
	}
	if db != "system" {
		return nil, true, &cypherError{code: codeNotSystemDatabase,
			msg: "This is an administration command and it should be executed against the system database: ALTER CURRENT USER SET PASSWORD"}
	}
	arg := func(e string) (string, *cypherError) {
		if e[0] == '$' {
			v, ok := params[e[1:]]
			if !ok {
				return "", &cypherError{code: codeParameterMissing, msg: "Expected parameter(s): " + e[1:]}
			}
			str, ok := v.(string)
			if !ok {
				return "", &cypherError{code: codeTypeError, msg: "Expected password parameter $" + e[1:] + " to have type String"}
			}
			return str, nil
		}
		return unquote(e), nil
	}
	old, cerr := arg(m[1])
	if cerr != nil {
		return nil, true, cerr
	}
	next, cerr := arg(m[2])
	if cerr != nil {
		return nil, true, cerr
	}
	user := s.cfg.User
	switch {
	case old != s.password:
		return nil, true, &cypherError{code: CodeArgumentError, msg: "User '" + user + "' failed to alter their own password: Invalid principal or credentials."}
	case old == next:
		return nil, true, &cypherError{code: CodeArgumentError, msg: "User '" + user + "' failed to alter their own password: Old password and new password cannot be the same."}
	}
	s.password = next
	return &result{qtype: "s"}, true, nil
}

// unquote strips a Cypher string literal's quotes and backslash escapes.
func unquote(lit string) string {
	body := lit[1 : len(lit)-1]
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' && i+1 < len(body) {
			i++
		}
		out = append(out, body[i])
	}
	return string(out)
}
