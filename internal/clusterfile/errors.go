package clusterfile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem in a cluster file: where it is, what is wrong
// and what to do about it.
type FieldError struct {
	// File is the name the cluster file was loaded under; empty for a
	// Cluster built in code.
	File string
	// Line and Column are 1-based; 0 when the position is unknown.
	Line   int
	Column int
	// Path is the field path, e.g. "spec.serverPools[1].name" or
	// "spec.config[server.bolt.listen_address]"; empty for problems of the
	// file as a whole (syntax errors).
	Path string
	// Problem says what is wrong, Fix what to do about it.
	Problem string
	Fix     string
}

// Error renders the problem as "file:line: field.path: problem (fix)",
// leaving out the parts that are unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString(" (")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// ErrorList is every problem found in one cluster file. Load and Validate
// return it as an error so that callers can tell bad input (exit 1) from
// other failures with errors.As.
type ErrorList struct {
	Errors []*FieldError
}

// Error renders one problem per line, sorted by line then path.
func (l *ErrorList) Error() string {
	lines := make([]string, len(l.Errors))
	for i, e := range l.Errors {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each FieldError to errors.Is and errors.As.
func (l *ErrorList) Unwrap() []error {
	errs := make([]error, len(l.Errors))
	for i, e := range l.Errors {
		errs[i] = e
	}
	return errs
}

// sort orders the problems as a reader scans the file.
func (l *ErrorList) sort() {
	sort.SliceStable(l.Errors, func(i, j int) bool {
		a, b := l.Errors[i], l.Errors[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Path < b.Path
	})
}

// orNil returns l as an error, or nil when it holds no problem: a nil
// *ErrorList must never reach a caller as a non-nil error.
func (l *ErrorList) orNil() error {
	if l == nil || len(l.Errors) == 0 {
		return nil
	}
	l.sort()
	return l
}

// Position is where a field was written.
type Position struct {
	Line   int
	Column int
}

// Source maps field paths of a loaded cluster file to their positions.
type Source struct {
	// File is the name the file was loaded under.
	File string
	// Positions holds the position of every field present in the file,
	// keyed by field path ("spec.servers", "spec.databases[0].name").
	Positions map[string]Position
}

// LineOf returns the line where path was written. For a field the file
// does not contain it returns the line of the closest enclosing field that
// it does (a missing "spec.auth.secretRef" points at "auth:"), and 0 when
// the Cluster was not loaded from a file.
func (c *Cluster) LineOf(path string) int {
	return c.Source.position(path).Line
}

func (s *Source) position(path string) Position {
	if s == nil {
		return Position{}
	}
	for {
		if p, ok := s.Positions[path]; ok {
			return p
		}
		if path == "" {
			// A field missing from the top level of the file: its
			// natural place is the start of the document.
			return Position{Line: 1, Column: 1}
		}
		path = parentPath(path)
	}
}

// parentPath strips the last segment of a field path:
// "a.b[2]" → "a.b", "a.m[x.y]" → "a.m", "a.b" → "a", "a" → "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndex(path, "["); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

// within reports whether path is prefix itself or a field below it.
func within(path, prefix string) bool {
	if path == prefix {
		return true
	}
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	next := path[len(prefix)]
	return next == '.' || next == '['
}
