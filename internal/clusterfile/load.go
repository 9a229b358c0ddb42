package clusterfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// LoadFile reads and loads the cluster file at path; see Load.
func LoadFile(path string) (*Cluster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cluster file: %w", err)
	}
	return Load(path, data)
}

// Load parses a cluster file (YAML, or JSON, which is YAML), fills in
// defaults and validates it. filename only labels positions in messages.
//
// Every problem is reported at once: the error is a *ErrorList whose
// entries carry the file, line and field path. Load returns either a
// valid, defaulted Cluster or such an error, never both, and never
// panics whatever data holds.
func Load(filename string, data []byte) (*Cluster, error) {
	c, decodeErrs := parse(filename, data)
	if c == nil {
		return nil, decodeErrs.orNil()
	}
	Default(c)
	list := &ErrorList{Errors: decodeErrs.Errors}
	for _, e := range c.validate() {
		// A field that could not be decoded holds its zero value; judging
		// that value again would only repeat the first error in other words.
		if !coveredBy(e.Path, decodeErrs.Errors) {
			list.Errors = append(list.Errors, e)
		}
	}
	if err := list.orNil(); err != nil {
		return nil, err
	}
	return c, nil
}

func coveredBy(path string, errs []*FieldError) bool {
	for _, e := range errs {
		if e.Path != "" && within(path, e.Path) {
			return true
		}
	}
	return false
}

// parse decodes data into a Cluster. A nil Cluster means the file could
// not be read as one YAML document at all; otherwise the list holds the
// decoding problems (unknown fields, wrong types, duplicate keys) and the
// Cluster as much as could be decoded.
func parse(filename string, data []byte) (*Cluster, *ErrorList) {
	src := &Source{File: filename, Positions: map[string]Position{}}
	list := &ErrorList{}
	fail := func(line int, problem, fix string) (*Cluster, *ErrorList) {
		list.Errors = append(list.Errors, &FieldError{File: filename, Line: line, Problem: problem, Fix: fix})
		return nil, list
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(0, "the file is empty", "write a Neo4jCluster: apiVersion, kind, metadata and spec")
		}
		line, problem := syntaxError(err)
		line, fix := syntaxFix(data, line)
		return fail(line, problem, fix)
	}
	// A trailing "---" (or an empty document) is harmless; a second
	// document with content would be silently ignored, so it is an error.
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, problem := syntaxError(err)
			line, fix := syntaxFix(data, line)
			return fail(line, problem, fix)
		}
		if len(next.Content) > 0 && !isNull(next.Content[0]) {
			return fail(next.Content[0].Line, "the file holds more than one YAML document", "keep one cluster per file, without a second ---")
		}
	}

	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return fail(0, "the file is empty", "write a Neo4jCluster: apiVersion, kind, metadata and spec")
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		if isNull(root) {
			return fail(root.Line, "the file is empty", "write a Neo4jCluster: apiVersion, kind, metadata and spec")
		}
		return fail(root.Line, "the file must be a mapping, got "+describe(root), "write a Neo4jCluster: apiVersion, kind, metadata and spec")
	}

	c := &Cluster{Source: src}
	d := newDecoder(src)
	d.value(root, reflect.ValueOf(c).Elem(), "", false)
	for _, e := range d.errs {
		e.File = filename
	}
	list.Errors = d.errs
	return c, list
}

var yamlLine = newLazyRegexp(`^yaml: line (\d+): (.*)$`)

// syntaxError extracts the line and message from a yaml.v3 parser error,
// which arrives as text ("yaml: line 3: did not find expected key").
func syntaxError(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, "YAML syntax error: " + m[2]
	}
	return 0, "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: ")
}

// syntaxFix recognises the commonest cause of a YAML syntax error, a tab
// in the indentation, and moves the line to the tab: the parser reports
// the line before it.
func syntaxFix(data []byte, line int) (int, string) {
	lines := bytes.Split(data, []byte("\n"))
	for _, l := range []int{line - 1, line} {
		if l >= 0 && l < len(lines) {
			trimmed := bytes.TrimLeft(lines[l], " ")
			if len(trimmed) > 0 && trimmed[0] == '\t' {
				return l + 1, "indent with spaces: YAML does not allow tabs in indentation"
			}
		}
	}
	return line, ""
}

// Namespace resolves the namespace the cluster lives in. The file's
// metadata.namespace wins: a cluster file is meant to describe one cluster
// wherever it is applied from. flagNamespace (--namespace; pass "" when the
// flag was not given) is used only when the file sets none, and "default"
// when neither does. A file and a flag that disagree are an error naming
// both, because guessing would plan against the wrong cluster.
func (c *Cluster) Namespace(flagNamespace string) (string, error) {
	fileNS := c.Metadata.Namespace
	switch {
	case fileNS != "" && flagNamespace != "" && fileNS != flagNamespace:
		return "", c.located(&FieldError{
			Path:    "metadata.namespace",
			Problem: fmt.Sprintf("the file sets namespace %q but --namespace is %q", fileNS, flagNamespace),
			Fix:     "drop --namespace, or make it match metadata.namespace",
		})
	case fileNS != "":
		return fileNS, nil
	case flagNamespace != "":
		if errs := validation.IsDNS1123Label(flagNamespace); len(errs) > 0 {
			return "", fmt.Errorf("--namespace %q: %s", flagNamespace, strings.Join(errs, "; "))
		}
		return flagNamespace, nil
	}
	return "default", nil
}

// located wraps a single problem as an *ErrorList with its position.
func (c *Cluster) located(e *FieldError) error {
	list := &ErrorList{Errors: []*FieldError{e}}
	c.locate(list.Errors)
	return list
}

// locate fills in the file and line of problems found after decoding.
func (c *Cluster) locate(errs []*FieldError) {
	for _, e := range errs {
		if c.Source != nil {
			e.File = c.Source.File
		}
		if e.Line == 0 {
			p := c.Source.position(e.Path)
			e.Line, e.Column = p.Line, p.Column
		}
	}
}
