package plan

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// longString is the length above which a changed string is shown as a
// unified diff instead of before → after.
const longString = 80

// needsHunks reports whether a changed value reads better as a line diff.
func needsHunks(before, after any) bool {
	b, bok := before.(string)
	a, aok := after.(string)
	if !bok && !aok {
		return false
	}
	return strings.Contains(b, "\n") || strings.Contains(a, "\n") || len(b) > longString || len(a) > longString
}

// unifiedHunks renders a line diff of two strings as unified hunks with
// three lines of context, the format reviewers know from git.
func unifiedHunks(before, after string) string {
	dmp := diffmatchpatch.New()
	c1, c2, lines := dmp.DiffLinesToChars(before, after)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(c1, c2, false), lines)

	type line struct {
		op   byte
		text string
	}
	var all []line
	for _, d := range diffs {
		op := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			op = '+'
		case diffmatchpatch.DiffDelete:
			op = '-'
		}
		text := strings.TrimSuffix(d.Text, "\n")
		for _, l := range strings.Split(text, "\n") {
			all = append(all, line{op, l})
		}
	}
	const ctx = 3
	var b strings.Builder
	for i := 0; i < len(all); {
		if all[i].op == ' ' {
			i++
			continue
		}
		start := max(0, i-ctx)
		end := i
		// Extend the hunk while changes are within 2*ctx lines of each other.
		for j := i; j < len(all); j++ {
			if all[j].op != ' ' {
				end = j
			} else if j-end > 2*ctx {
				break
			}
		}
		stop := min(len(all), end+ctx+1)
		oldStart, newStart := 1, 1
		for _, l := range all[:start] {
			if l.op != '+' {
				oldStart++
			}
			if l.op != '-' {
				newStart++
			}
		}
		oldN, newN := 0, 0
		for _, l := range all[start:stop] {
			if l.op != '+' {
				oldN++
			}
			if l.op != '-' {
				newN++
			}
		}
		fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", oldStart, oldN, newStart, newN)
		for _, l := range all[start:stop] {
			b.WriteByte(l.op)
			b.WriteString(l.text)
			b.WriteByte('\n')
		}
		i = stop
	}
	return b.String()
}
