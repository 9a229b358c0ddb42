package neo4j

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// This file is a small, independent Cypher tokenizer used only by tests to
// prove that generated statements have exactly the intended shape. It
// follows the Cypher manual's lexical rules: string literals in single or
// double quotes with backslash escapes, backtick identifiers with doubled
// backticks, comments, names, numbers and one-character punctuation.

type tokKind int

const (
	tKeyword tokKind = iota // names, compared case-sensitively in tests
	tString
	tIdent // backtick-quoted identifier
	tNumber
	tPunct
	tComment
)

func (k tokKind) String() string {
	return [...]string{"keyword", "string", "ident", "number", "punct", "comment"}[k]
}

type token struct {
	Kind tokKind
	Text string // decoded value for strings and identifiers
}

func (t token) String() string { return fmt.Sprintf("%s(%q)", t.Kind, t.Text) }

// javaUnicodePreprocess decodes \uXXXX escapes the way a JavaCC parser with
// JAVA_UNICODE_ESCAPE does, before tokenizing: only a backslash preceded by
// an even number of backslashes starts one, and any number of 'u's may
// follow it. The result is UTF-16 code units widened to runes, so lone
// surrogates survive until a string literal combines them.
func javaUnicodePreprocess(s string) ([]rune, error) {
	in := []rune(s)
	var out []rune
	backslashes := 0
	for i := 0; i < len(in); i++ {
		r := in[i]
		if r == '\\' && backslashes%2 == 0 && i+1 < len(in) && in[i+1] == 'u' {
			j := i + 1
			for j < len(in) && in[j] == 'u' {
				j++
			}
			if j+4 > len(in) {
				return nil, fmt.Errorf("truncated unicode escape at %d", i)
			}
			v, err := strconv.ParseUint(string(in[j:j+4]), 16, 16)
			if err != nil {
				return nil, fmt.Errorf("bad unicode escape at %d", i)
			}
			out = append(out, rune(v))
			i = j + 3
			backslashes = 0
			continue
		}
		if r == '\\' {
			backslashes++
		} else {
			backslashes = 0
		}
		if r > 0xFFFF {
			hi, lo := utf16.EncodeRune(r)
			out = append(out, hi, lo)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func tokenize(s string) ([]token, error) { return tokenizeRunes([]rune(s)) }

func tokenizeRunes(in []rune) ([]token, error) {
	var toks []token
	i := 0
	for i < len(in) {
		r := in[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i++
		case r == '/' && i+1 < len(in) && in[i+1] == '/':
			j := i
			for j < len(in) && in[j] != '\n' {
				j++
			}
			toks = append(toks, token{tComment, string(in[i:j])})
			i = j
		case r == '/' && i+1 < len(in) && in[i+1] == '*':
			end := strings.Index(string(in[i+2:]), "*/")
			if end < 0 {
				return nil, fmt.Errorf("unterminated comment at %d", i)
			}
			n := len([]rune(string(in[i+2:])[:end]))
			toks = append(toks, token{tComment, string(in[i : i+2+n+2])})
			i += 2 + n + 2
		case r == '\'' || r == '"':
			val, next, err := lexString(in, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tString, val})
			i = next
		case r == '`':
			var units []rune
			j := i + 1
			for {
				if j >= len(in) {
					return nil, fmt.Errorf("unterminated identifier at %d", i)
				}
				if in[j] == '`' {
					if j+1 < len(in) && in[j+1] == '`' {
						units = append(units, '`')
						j += 2
						continue
					}
					break
				}
				units = append(units, in[j])
				j++
			}
			toks = append(toks, token{tIdent, joinUnits(units)})
			i = j + 1
		case isNameStart(r):
			j := i
			for j < len(in) && (isNameStart(in[j]) || (in[j] >= '0' && in[j] <= '9')) {
				j++
			}
			toks = append(toks, token{tKeyword, string(in[i:j])})
			i = j
		case r >= '0' && r <= '9':
			j := i
			for j < len(in) && ((in[j] >= '0' && in[j] <= '9') || in[j] == '.') {
				j++
			}
			toks = append(toks, token{tNumber, string(in[i:j])})
			i = j
		case strings.ContainsRune("{}[](),:.;$=<>-+*", r):
			toks = append(toks, token{tPunct, string(r)})
			i++
		default:
			return nil, fmt.Errorf("unexpected character %q at %d", r, i)
		}
	}
	return toks, nil
}

func isNameStart(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_'
}

// lexString decodes a string literal starting at in[start] (the quote).
func lexString(in []rune, start int) (string, int, error) {
	quote := in[start]
	var units []rune // UTF-16 code units or whole runes
	j := start + 1
	for {
		if j >= len(in) {
			return "", 0, fmt.Errorf("unterminated string at %d", start)
		}
		r := in[j]
		if r == quote {
			break
		}
		if r != '\\' {
			units = append(units, r)
			j++
			continue
		}
		if j+1 >= len(in) {
			return "", 0, fmt.Errorf("dangling backslash at %d", j)
		}
		esc := in[j+1]
		j += 2
		switch esc {
		case '\\', '\'', '"':
			units = append(units, esc)
		case 'b':
			units = append(units, '\b')
		case 't':
			units = append(units, '\t')
		case 'n':
			units = append(units, '\n')
		case 'f':
			units = append(units, '\f')
		case 'r':
			units = append(units, '\r')
		case 'u', 'U':
			n := 4
			if esc == 'U' {
				n = 8
			}
			if j+n > len(in) {
				return "", 0, fmt.Errorf("truncated escape at %d", j)
			}
			v, err := strconv.ParseUint(string(in[j:j+n]), 16, 32)
			if err != nil {
				return "", 0, fmt.Errorf("bad escape at %d", j)
			}
			units = append(units, rune(v))
			j += n
		default:
			return "", 0, fmt.Errorf("unknown escape \\%c at %d", esc, j-1)
		}
	}
	return joinUnits(units), j + 1, nil
}

// joinUnits combines surrogate pairs, as a UTF-16 (Java) string would.
func joinUnits(units []rune) string {
	var b strings.Builder
	for k := 0; k < len(units); k++ {
		r := units[k]
		if utf16.IsSurrogate(r) && k+1 < len(units) {
			if c := utf16.DecodeRune(r, units[k+1]); c != 0xFFFD {
				b.WriteRune(c)
				k++
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
