package neo4j

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxIdentifierLength is the longest name Neo4j accepts for identifiers such
// as database aliases (65534 characters, per the Cypher manual).
const maxIdentifierLength = 65534

// QuoteString returns s as a single-quoted Cypher string literal that decodes
// to exactly s.
//
// Backslash, both quote characters, and the control characters with short
// escapes (\b \t \n \f \r) are escaped with a backslash; every other rune
// that is not printable (other control characters, format characters such as
// bidi overrides, unassigned code points) is written as \uXXXX (a UTF-16
// surrogate pair outside the BMP) so a statement shown in a plan cannot
// deceive its reader. Printable Unicode is kept as is.
//
// Because a literal backslash is always doubled, text such as `\u0027` in s
// cannot become a quote even for a parser that decodes Java-style unicode
// escapes before tokenizing (Neo4j's JavaCC-based parsers did): such parsers
// only decode a backslash preceded by an even number of backslashes.
//
// It fails only for invalid UTF-8, which no Cypher literal can reproduce.
func QuoteString(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("string is not valid UTF-8")
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r == ' ' || (unicode.IsPrint(r) && r != utf8.RuneError) {
				b.WriteRune(r)
				continue
			}
			if r > 0xFFFF {
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04X\u%04X`, hi, lo)
				continue
			}
			fmt.Fprintf(&b, `\u%04X`, r)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// QuoteIdentifier returns s as a backtick-quoted Cypher identifier, with
// every backtick doubled, so that the identifier names exactly s.
//
// It rejects what no quoted identifier can name faithfully:
//   - the empty string and names longer than 65534 characters;
//   - invalid UTF-8 and the NUL character;
//   - any backslash. Inside backticks a backslash is not an escape, so the
//     text `\u0060` would reach a parser that decodes unicode escapes before
//     tokenizing (Neo4j's JavaCC-based parsers did) as a closing backtick.
//     No identifier neo4jctl manages (database names, aliases) may contain a
//     backslash, so refusing it costs nothing and closes that hole.
//
// Database names have stricter rules; use QuoteDatabaseName for them.
func QuoteIdentifier(s string) (string, error) {
	switch {
	case s == "":
		return "", errors.New("identifier is empty")
	case !utf8.ValidString(s):
		return "", errors.New("identifier is not valid UTF-8")
	case utf8.RuneCountInString(s) > maxIdentifierLength:
		return "", fmt.Errorf("identifier is longer than %d characters", maxIdentifierLength)
	case strings.ContainsRune(s, 0):
		return "", errors.New("identifier contains a NUL character")
	case strings.ContainsRune(s, '\\'):
		return "", errors.New("identifier contains a backslash")
	}
	return "`" + strings.ReplaceAll(s, "`", "``") + "`", nil
}

// ValidateDatabaseName checks name against Neo4j's naming rules for standard
// databases: 3 to 63 characters; ASCII letters, digits, dots and dashes
// only; starting with a letter (a digit is accepted too, which Neo4j allows
// from 2025.01); not ending with a dot or dash; not starting with an
// underscore or "system" (reserved), except the system database itself.
// Names are case-insensitive in Neo4j, so upper-case letters are accepted
// and Neo4j lower-cases them.
func ValidateDatabaseName(name string) error {
	if name == "system" {
		return nil
	}
	if n := len(name); n < 3 || n > 63 {
		return fmt.Errorf("database name %q must be 3 to 63 characters long, got %d", name, n)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		digit := c >= '0' && c <= '9'
		switch {
		case i == 0 && !letter && !digit:
			return fmt.Errorf("database name %q must start with an ASCII letter or digit", name)
		case !letter && !digit && c != '.' && c != '-':
			return fmt.Errorf("database name %q may contain only ASCII letters, digits, dots and dashes", name)
		}
	}
	if last := name[len(name)-1]; last == '.' || last == '-' {
		return fmt.Errorf("database name %q must not end with a dot or a dash", name)
	}
	if strings.HasPrefix(strings.ToLower(name), "system") {
		return fmt.Errorf("database name %q is reserved: names starting with \"system\" are for internal use", name)
	}
	return nil
}

// QuoteDatabaseName validates name with ValidateDatabaseName and returns it
// backtick-quoted. Quoting is always applied because dots and dashes are not
// legal in unquoted names and an unquoted dot means "composite.alias".
func QuoteDatabaseName(name string) (string, error) {
	if err := ValidateDatabaseName(name); err != nil {
		return "", err
	}
	return QuoteIdentifier(name)
}

// MapKey returns k as a Cypher map key: bare when it is a simple identifier
// (the form Neo4j's documentation uses for OPTIONS keys), backtick-quoted
// otherwise.
func MapKey(k string) (string, error) {
	if isSimpleName(k) {
		return k, nil
	}
	return QuoteIdentifier(k)
}

func isSimpleName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Literal renders v as a Cypher literal. Supported values: nil (null), bool,
// string, int, int64, float64 (finite), []string, []any, map[string]any
// (keys sorted, so the output is deterministic) and time.Time, which renders
// as datetime('…') in RFC 3339 with nanoseconds — the form OPTIONS such as
// seedRestoreUntil take. Anything else is an error, never a %v guess.
func Literal(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case string:
		return QuoteString(x)
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("float %v has no Cypher literal", x)
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0" // keep it a FLOAT, not an INTEGER
		}
		return s, nil
	case time.Time:
		q, err := QuoteString(x.Format(time.RFC3339Nano))
		if err != nil {
			return "", err
		}
		return "datetime(" + q + ")", nil
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		return ListLiteral(items)
	case []any:
		return ListLiteral(x)
	case map[string]any:
		return MapLiteral(x)
	default:
		return "", fmt.Errorf("no Cypher literal for a value of type %T", v)
	}
}

// ListLiteral renders items as a Cypher list literal: [a, b, c].
func ListLiteral(items []any) (string, error) {
	parts := make([]string, len(items))
	for i, item := range items {
		s, err := Literal(item)
		if err != nil {
			return "", fmt.Errorf("list item %d: %w", i, err)
		}
		parts[i] = s
	}
	return "[" + strings.Join(parts, ", ") + "]", nil
}

// MapLiteral renders m as a Cypher map literal with its keys sorted:
// {a: 1, b: 'x'}.
func MapLiteral(m map[string]any) (string, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		key, err := MapKey(k)
		if err != nil {
			return "", fmt.Errorf("map key %q: %w", k, err)
		}
		val, err := Literal(m[k])
		if err != nil {
			return "", fmt.Errorf("map key %q: %w", k, err)
		}
		parts[i] = key + ": " + val
	}
	return "{" + strings.Join(parts, ", ") + "}", nil
}
