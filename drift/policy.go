package drift

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/plan"
)

// Rule is a policy rule and where it was written, so a violation can point
// at the rule (the cluster file's spec.policies[i] or a policy file).
type Rule struct {
	clusterfile.PolicyRule
	// Path is the rule's field path in its file: spec.policies[0], policies[0].
	Path string
	File string
	Line int
}

// Checked states.
const (
	StateDesired = "desired"
	StateLive    = "live"
)

// Violation is a policy rule that does not hold for one target.
type Violation struct {
	Rule        string   `json:"rule"`
	Severity    Severity `json:"severity"`
	Description string   `json:"description,omitempty"`
	// State is "desired" (validate, plan) or "live" (drift, watch).
	State string `json:"state"`
	// Address is the object's address, or neo4j:setting/<key>.
	Address string `json:"address"`
	// Field is the JSON pointer, or the setting key.
	Field string `json:"field"`
	// Value is what was found (redacted; absent when not set).
	Value   any    `json:"value,omitempty"`
	Message string `json:"message"`
	// AutoRemediate is the rule's flag: watch's enforce mode may restore a
	// compliant value on its own.
	AutoRemediate bool `json:"auto_remediate,omitempty"`
	// RulePath, File and Line locate the rule.
	RulePath string `json:"rule_path,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
}

// Target names what a violation is about: the setting's address, or the
// object's address and the pointer into it.
func (v Violation) Target() string {
	if strings.HasPrefix(v.Address, "neo4j:setting/") {
		return v.Address
	}
	return v.Address + " " + v.Field
}

// RulesOf returns the cluster file's spec.policies with their positions.
func RulesOf(c *clusterfile.Cluster) []Rule {
	if c == nil {
		return nil
	}
	var out []Rule
	for i, r := range c.Spec.Policies {
		p := fmt.Sprintf("spec.policies[%d]", i)
		rule := Rule{PolicyRule: r, Path: p, Line: c.LineOf(p)}
		if c.Source != nil {
			rule.File = c.Source.File
		}
		out = append(out, rule)
	}
	return out
}

// LoadPolicyFile reads a policy file (a mapping with one key, policies,
// holding rules as spec.policies does). Bad rules are reported all at once
// as file:line problems.
func LoadPolicyFile(path string) ([]Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	rules, src, err := clusterfile.LoadPolicies(path, data)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, len(rules))
	for i, r := range rules {
		p := fmt.Sprintf("policies[%d]", i)
		out[i] = Rule{PolicyRule: r, Path: p, File: path, Line: src.Line(p)}
	}
	return out, nil
}

// Objects returns the JSON-shaped maps of rendered objects, what
// EvaluatePolicies reads.
func Objects(objs []*unstructured.Unstructured) []map[string]any {
	out := make([]map[string]any, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.Object)
	}
	return out
}

// ConfSettings reads the settings of the neo4j.conf that a rendered (or
// live) ConfigMap among objects holds: the settings the servers will run
// with, defaults neo4jctl renders included.
func ConfSettings(objects []map[string]any) map[string]string {
	out := map[string]string{}
	for _, o := range objects {
		if o["kind"] != "ConfigMap" {
			continue
		}
		data, _ := o["data"].(map[string]any)
		// neo4j.conf holds the restart settings, dynamic.conf (its own
		// ConfigMap) the dynamic ones; the servers read both.
		for _, file := range []string{"neo4j.conf", "dynamic.conf"} {
			conf, _ := data[file].(string)
			for k, v := range parseConf(conf) {
				out[k] = v
			}
		}
	}
	return out
}

// EvaluateDesired checks rules against what neo4jctl renders for t: the
// objects and neo4j.conf. validate and plan call it.
func EvaluateDesired(rules []Rule, t *pipeline.Target) []Violation {
	objs := Objects(t.Objects)
	settings := ConfSettings(objs)
	for k, v := range t.Desired.Settings {
		settings[k] = v
	}
	return mark(EvaluatePolicies(rules, objs, settings), StateDesired)
}

// EvaluateLive checks rules against what was observed: the live objects and,
// when the Neo4j plane was observed, the settings the servers report.
// Setting rules are skipped when Neo4j was not observed.
func EvaluateLive(rules []Rule, obs pipeline.Observed) []Violation {
	var objs []map[string]any
	for _, o := range obs.Kube.Objects {
		if o.Live != nil {
			objs = append(objs, o.Live)
		}
	}
	var settings map[string]string
	if obs.Neo4j.Reachable {
		settings = make(map[string]string, len(obs.Neo4j.Settings))
		for k, s := range obs.Neo4j.Settings {
			settings[k] = s.Value
		}
	}
	return mark(EvaluatePolicies(rules, objs, settings), StateLive)
}

func mark(vs []Violation, st string) []Violation {
	for i := range vs {
		vs[i].State = st
	}
	return vs
}

// EvaluatePolicies checks every rule against objects (JSON-shaped
// Kubernetes objects, desired or live) and settings (neo4j.conf key →
// value). A nil settings map means the settings are unknown and setting
// rules are skipped; an empty one means none is set. A rule on a kind checks
// every object of the kind (or the one named by objectName). Values are
// redacted in violations when they are credentials.
func EvaluatePolicies(rules []Rule, objects []map[string]any, settings map[string]string) []Violation {
	var out []Violation
	for _, r := range rules {
		if r.Setting != "" {
			if settings == nil {
				continue
			}
			v, ok := settings[r.Setting]
			var val any
			if ok {
				val = v
			}
			if msg := check(r.PolicyRule, val, ok, true); msg != "" {
				out = append(out, violation(r, "neo4j:setting/"+r.Setting, r.Setting, val, ok, plan.SensitiveKey(r.Setting), msg))
			}
			continue
		}
		matched := 0
		for _, o := range objects {
			if o["kind"] != r.Kind {
				continue
			}
			meta, _ := o["metadata"].(map[string]any)
			name, _ := meta["name"].(string)
			if r.ObjectName != "" && name != r.ObjectName {
				continue
			}
			matched++
			val, ok := resolvePointer(o, r.JSONPointer)
			if msg := check(r.PolicyRule, val, ok, false); msg != "" {
				out = append(out, violation(r, objectAddress(o), r.JSONPointer, val, ok, sensitivePointer(r.Kind, r.JSONPointer, o), msg))
			}
		}
		if matched == 0 && r.Required {
			what := r.Kind
			if r.ObjectName != "" {
				what += " " + r.ObjectName
			}
			out = append(out, violation(r, "k8s:*/"+r.Kind+"/*/"+orAll(r.ObjectName), r.JSONPointer, nil, false, false,
				fmt.Sprintf("no %s to check %s on", what, r.JSONPointer)))
		}
	}
	return out
}

func orAll(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func violation(r Rule, addr, field string, val any, present, sensitive bool, msg string) Violation {
	v := Violation{Rule: r.Name, Severity: Severity(r.SeverityOf()), Description: r.Description, Address: addr, Field: field,
		Message: msg, AutoRemediate: r.AutoRemediate, RulePath: r.Path, File: r.File, Line: r.Line}
	if present {
		v.Value = val
		if sensitive {
			v.Value = plan.Sensitive
		}
	}
	if sensitive {
		v.Message = strings.ReplaceAll(v.Message, fmt.Sprintf("%q", scalar(val)), plan.Sensitive)
	}
	return v
}

// check returns why rule r does not hold for val (present says whether it
// is set), or "" when it holds.
func check(r clusterfile.PolicyRule, val any, present, setting bool) string {
	if !present {
		if r.Required {
			return "is not set (required)"
		}
		return ""
	}
	s := scalar(val)
	var why []string
	amount := func(bound string) (float64, float64, bool) {
		b, err := clusterfile.ParseAmount(bound, setting)
		if err != nil {
			return 0, 0, false
		}
		v, err := clusterfile.ParseAmount(s, setting)
		if err != nil {
			why = append(why, fmt.Sprintf("%q is not an amount to compare with %s", s, bound))
			return 0, 0, false
		}
		return v, b, true
	}
	if r.Min != "" {
		if v, b, ok := amount(r.Min); ok && v < b {
			why = append(why, fmt.Sprintf("%q is less than the minimum %s", s, r.Min))
		}
	}
	if r.Max != "" {
		if v, b, ok := amount(r.Max); ok && v > b {
			why = append(why, fmt.Sprintf("%q is more than the maximum %s", s, r.Max))
		}
	}
	if r.Equals != "" && !sameValue(s, r.Equals, setting) {
		why = append(why, fmt.Sprintf("%q is not %q", s, r.Equals))
	}
	if len(r.OneOf) > 0 {
		hit := false
		for _, o := range r.OneOf {
			if sameValue(s, o, setting) {
				hit = true
				break
			}
		}
		if !hit {
			why = append(why, fmt.Sprintf("%q is not one of %s", s, strings.Join(r.OneOf, ", ")))
		}
	}
	if r.Regex != "" {
		re, err := regexp.Compile(r.Regex)
		if err != nil {
			why = append(why, fmt.Sprintf("the rule's regex does not compile: %v", err))
		} else if !re.MatchString(s) {
			why = append(why, fmt.Sprintf("%q does not match %s", s, r.Regex))
		}
	}
	return strings.Join(why, "; ")
}

// sameValue compares a value with a rule's value: amounts by their
// normalised value when both read as one (cpu 1 is 1000m), settings
// case-insensitively (Neo4j reads TRUE as true), fields exactly.
func sameValue(v, want string, setting bool) bool {
	if v == want || (setting && clusterfile.SameSettingValue(want, v)) {
		return true
	}
	a, errA := clusterfile.ParseAmount(v, setting)
	b, errB := clusterfile.ParseAmount(want, setting)
	return errA == nil && errB == nil && a == b
}

// scalar renders a JSON value as the text rules compare: strings as they
// are, numbers without exponent, anything else as JSON.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// resolvePointer follows an RFC 6901 pointer into a JSON-shaped object. A
// list element is named by its index or by the value of its name (or port,
// containerPort, mountPath) field, as ignore rules name them.
func resolvePointer(obj map[string]any, ptr string) (any, bool) {
	if ptr == "" || ptr == "/" {
		return obj, true
	}
	var cur any = obj
	for _, raw := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		seg := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			next, ok := listElement(x, seg)
			if !ok {
				return nil, false
			}
			cur = next
		default:
			return nil, false
		}
	}
	return cur, cur != nil
}

func listElement(l []any, seg string) (any, bool) {
	if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(l) {
		// An index, unless an element is also named so (a port 0 is not).
		return l[i], true
	}
	for _, key := range []string{"name", "containerPort", "port", "mountPath"} {
		for _, e := range l {
			m, ok := e.(map[string]any)
			if ok && scalar(m[key]) == seg && m[key] != nil {
				return m, true
			}
		}
	}
	return nil, false
}

// sensitivePointer reports whether a pointer reaches a credential: Secret
// data, or an env value whose name names one.
func sensitivePointer(kind, ptr string, obj map[string]any) bool {
	if kind == "Secret" {
		return true
	}
	parts := strings.Split(ptr, "/")
	for i, p := range parts {
		if p != "env" || i+1 >= len(parts) {
			continue
		}
		name := parts[i+1]
		if e, ok := resolvePointer(obj, strings.Join(parts[:i+2], "/")); ok {
			if m, ok := e.(map[string]any); ok {
				name = scalar(m["name"]) // the element was named by index
			}
		}
		if plan.SensitiveKey(name) || strings.Contains(strings.ToLower(name), "auth") {
			return true
		}
	}
	if kind == "ConfigMap" && strings.HasPrefix(ptr, "/data/") && plan.SensitiveKey(strings.TrimPrefix(ptr, "/data/")) {
		return true
	}
	return false
}

// objectAddress is the k8s:<group>/<Kind>/<namespace>/<name> address of a
// JSON-shaped object.
func objectAddress(o map[string]any) string {
	apiVersion, _ := o["apiVersion"].(string)
	kind, _ := o["kind"].(string)
	meta, _ := o["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	name, _ := meta["name"].(string)
	group := "core"
	if g, _, ok := strings.Cut(apiVersion, "/"); ok {
		group = g
	}
	return "k8s:" + group + "/" + kind + "/" + ns + "/" + name
}
