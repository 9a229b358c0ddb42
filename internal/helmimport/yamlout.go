package helmimport

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// node is one key of the cluster file being written, with the comments
// that explain where its value came from or what had no equivalent. The
// file is written by hand rather than marshalled so that the comments sit
// beside the fields they are about and the key order reads like the
// examples.
type node struct {
	key      string
	scalar   any // string, bool, int: a scalar value
	children []*node
	list     []any // list of scalars or of *node mappings
	// block is multi-line text written as a literal block scalar (|).
	block    string
	comments []string
}

func (n *node) child(key string) *node {
	for _, c := range n.children {
		if c.key == key {
			return c
		}
	}
	c := &node{key: key}
	n.children = append(n.children, c)
	return c
}

// at returns the node at a dotted path, creating it.
func (n *node) at(path string) *node {
	cur := n
	for _, k := range strings.Split(path, ".") {
		cur = cur.child(k)
	}
	return cur
}

func (n *node) set(path string, v any, comments ...string) {
	c := n.at(path)
	c.scalar = v
	c.comments = append(c.comments, comments...)
}

func (n *node) setMap(path string, m map[string]string, comments ...string) {
	if len(m) == 0 {
		return
	}
	c := n.at(path)
	c.comments = append(c.comments, comments...)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.child(k).scalar = m[k]
	}
}

func (n *node) empty() bool {
	return n.scalar == nil && len(n.children) == 0 && len(n.list) == 0 && n.block == ""
}

func quote(v any) string {
	switch x := v.(type) {
	case string:
		b, _ := json.Marshal(x)
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

func writeComments(b *strings.Builder, indent string, comments []string) {
	for _, c := range comments {
		for _, line := range strings.Split(c, "\n") {
			b.WriteString(indent + "# " + line + "\n")
		}
	}
}

// write emits the children of n as a YAML mapping at the given depth.
func (n *node) write(b *strings.Builder, depth int) {
	indent := strings.Repeat("  ", depth)
	for _, c := range n.children {
		writeComments(b, indent, c.comments)
		switch {
		case c.block != "":
			text := strings.TrimLeft(c.block, "\n")
			if strings.HasPrefix(text, " ") || strings.HasPrefix(text, "\t") {
				// A literal block's first line sets its indentation.
				b.WriteString(indent + quoteKey(c.key) + ": " + quote(c.block) + "\n")
				break
			}
			b.WriteString(indent + quoteKey(c.key) + ": |\n")
			for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
				if strings.TrimSpace(line) == "" {
					b.WriteString("\n")
					continue
				}
				b.WriteString(indent + "  " + strings.TrimRight(line, " \t") + "\n")
			}
		case c.scalar != nil:
			b.WriteString(indent + quoteKey(c.key) + ": " + quote(c.scalar) + "\n")
		case len(c.list) > 0:
			b.WriteString(indent + quoteKey(c.key) + ":\n")
			for _, item := range c.list {
				if m, ok := item.(*node); ok {
					var sub strings.Builder
					m.write(&sub, depth+2)
					s := sub.String()
					// The first key goes on the dash line.
					s = indent + "  - " + strings.TrimPrefix(s, indent+"    ")
					b.WriteString(s)
					continue
				}
				b.WriteString(indent + "  - " + quote(item) + "\n")
			}
		case len(c.children) > 0:
			b.WriteString(indent + quoteKey(c.key) + ":\n")
			c.write(b, depth+1)
		default:
			// A key holding nothing but comments: keep the comments.
		}
	}
}

// quoteKey quotes keys that are not plain identifiers (settings and label
// keys with dots or slashes are fine unquoted; anything else is quoted).
func quoteKey(k string) string {
	for _, r := range k {
		if !(r == '.' || r == '-' || r == '_' || r == '/' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return quote(k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}
