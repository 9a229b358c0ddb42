package clusterfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Severities of policy rules, lowest first.
var Severities = []string{"info", "warning", "error", "critical"}

// DefaultSeverity is the severity of a rule that names none.
const DefaultSeverity = "error"

// SeverityOf returns the rule's severity, DefaultSeverity when unset.
func (r PolicyRule) SeverityOf() string {
	if r.Severity == "" {
		return DefaultSeverity
	}
	return r.Severity
}

// neo4jSize is a Neo4j byte size: a number and an optional binary unit
// (k, m, g, t, p, e, each optionally followed by B or iB). Neo4j reads every
// multiplier as a power of 1024, and so does neo4jctl.
var neo4jSize = newLazyRegexp(`^([0-9]+(?:\.[0-9]+)?)\s*(?:([kKmMgGtTpPeE])(?:i?[bB])?|[bB])?$`)

// ParseAmount reads a number, a Kubernetes quantity ("2Gi", "500m",
// "1.5") or a Neo4j byte size ("512m", "4g", "1.00GiB") as a float. The two
// notations disagree on "500m" (half a CPU, or 500 MiB), so setting says
// which one wins: a Neo4j setting's value is read as a byte size first, a
// Kubernetes field's as a quantity first; the other notation is the
// fallback for what the first cannot read.
func ParseAmount(s string, setting bool) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	if setting {
		if f, ok := parseNeo4jSize(s); ok {
			return f, nil
		}
		if q, err := resource.ParseQuantity(s); err == nil {
			return q.AsApproximateFloat64(), nil
		}
	} else {
		if q, err := resource.ParseQuantity(s); err == nil {
			return q.AsApproximateFloat64(), nil
		}
		if f, ok := parseNeo4jSize(s); ok {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%q is not a number, Kubernetes quantity (2Gi, 500m) or Neo4j size (512m, 4g)", s)
}

func parseNeo4jSize(s string) (float64, bool) {
	m := neo4jSize.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	if m[2] != "" {
		exp := strings.IndexByte("kmgtpe", strings.ToLower(m[2])[0]) + 1
		f *= math.Pow(1024, float64(exp))
	}
	return f, true
}

// policies checks a list of rules at path ("spec.policies", or "policies"
// in a policy file): each names one target and at least one check, and
// every threshold and expression can be evaluated.
func (v *validator) policies(path string, rules []PolicyRule) {
	seen := map[string]int{}
	for i, r := range rules {
		p := fmt.Sprintf("%s[%d]", path, i)
		if v.required(p+".name", r.Name, "name the rule, e.g. name: heap-at-least-2g") {
			if first, dup := seen[r.Name]; dup {
				v.add(p+".name", fmt.Sprintf("duplicate rule name %q (also %s[%d])", r.Name, path, first), "give each rule its own name")
			} else {
				seen[r.Name] = i
			}
		}
		v.oneOf(p+".severity", r.Severity, Severities...)

		setting := r.Setting != ""
		switch {
		case setting && (r.Kind != "" || r.JSONPointer != "" || r.ObjectName != ""):
			v.add(p, "names both a setting and an object field", "a rule checks one target: keep setting, or kind and jsonPointer")
		case setting:
			if !settingName.MatchString(r.Setting) {
				v.add(p+".setting", fmt.Sprintf("%q does not look like a Neo4j setting", r.Setting), "settings are dotted lower-case names, e.g. server.memory.heap.max_size")
			}
		case r.Kind == "" && r.JSONPointer == "":
			v.add(p, "has no target", "set setting (a neo4j.conf setting), or kind and jsonPointer (a field of the rendered objects)")
		case r.Kind == "":
			v.add(p+".kind", "required with jsonPointer", "name the kind of object, e.g. kind: StatefulSet")
		case r.JSONPointer == "":
			v.add(p+".jsonPointer", "required with kind", "point at a field, e.g. /spec/template/spec/containers/neo4j/resources/limits/memory")
		case !strings.HasPrefix(r.JSONPointer, "/"):
			v.add(p+".jsonPointer", fmt.Sprintf("%q is not a JSON pointer", r.JSONPointer), "JSON pointers start with /, e.g. /spec/replicas")
		}

		if r.Min == "" && r.Max == "" && r.Equals == "" && len(r.OneOf) == 0 && r.Regex == "" && !r.Required {
			v.add(p, "checks nothing", "add min, max, equals, oneOf, regex or required: true")
		}
		if r.Equals != "" && len(r.OneOf) > 0 {
			v.add(p+".oneOf", "set together with equals", "keep one of them")
		}
		lo, loOK := v.amount(p+".min", r.Min, setting)
		hi, hiOK := v.amount(p+".max", r.Max, setting)
		if loOK && hiOK && lo > hi {
			v.add(p+".min", fmt.Sprintf("min %s is more than max %s", r.Min, r.Max), "swap them")
		}
		if r.Regex != "" {
			if _, err := regexp.Compile(r.Regex); err != nil {
				v.add(p+".regex", fmt.Sprintf("not a regular expression: %v", err), "use RE2 syntax, e.g. ^neo4j:5\\.26\\.")
			}
		}
	}
}

// amount parses a min or max threshold; empty is "not set".
func (v *validator) amount(path, s string, setting bool) (float64, bool) {
	if s == "" {
		return 0, false
	}
	f, err := ParseAmount(s, setting)
	if err != nil {
		v.add(path, err.Error(), `e.g. "2Gi" or "500m" for Kubernetes fields, "512m" or "4g" for Neo4j sizes, or a plain number`)
		return 0, false
	}
	return f, true
}

// LoadPolicies reads a policy file: a YAML (or JSON) mapping with one key,
// policies, holding rules as spec.policies does. Problems are reported all
// at once as a *ErrorList with file:line positions; Source maps each rule's
// path ("policies[0]") to its position for annotations.
func LoadPolicies(filename string, data []byte) ([]PolicyRule, *Source, error) {
	src := &Source{File: filename, Positions: map[string]Position{}}
	fail := func(line int, problem, fix string) ([]PolicyRule, *Source, error) {
		return nil, nil, &ErrorList{Errors: []*FieldError{{File: filename, Line: line, Problem: problem, Fix: fix}}}
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(0, "the policy file is empty", "write policies: followed by a list of rules")
		}
		line, problem := syntaxError(err)
		return fail(line, problem, "")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return fail(root.Line, "the policy file must be a mapping, got "+describe(root), "write policies: followed by a list of rules")
	}
	var pf PolicyFile
	d := newDecoder(src)
	d.value(root, reflect.ValueOf(&pf).Elem(), "", false)
	v := &validator{c: &Cluster{Source: src}}
	if _, ok := src.Positions["policies"]; !ok {
		v.add("policies", "required", "write policies: followed by a list of rules")
	}
	v.policies("policies", pf.Policies)
	list := &ErrorList{Errors: d.errs}
	for _, e := range v.errs {
		if !coveredBy(e.Path, d.errs) {
			list.Errors = append(list.Errors, e)
		}
	}
	v.c.locate(list.Errors)
	if err := list.orNil(); err != nil {
		return nil, nil, err
	}
	return pf.Policies, src, nil
}

// Line returns the line where path was written, as Cluster.LineOf does, for
// a Source that did not come with a Cluster (a policy file).
func (s *Source) Line(path string) int { return s.position(path).Line }
