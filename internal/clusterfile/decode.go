package clusterfile

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
)

// nodeBudget bounds the nodes one file may make the decoder visit. Aliases
// are followed, so a few lines of anchors could otherwise expand into
// billions of nodes ("billion laughs"); a real cluster file has a few
// hundred.
const nodeBudget = 100_000

// decoder walks a yaml.v3 node tree against the Go types by reflection,
// using their json tags, so that every problem keeps its line and a
// wrong type or unknown field does not stop the walk.
type decoder struct {
	src    *Source
	errs   []*FieldError
	budget int
	// exhausted is set once the budget ran out, to report that once.
	exhausted bool
}

func newDecoder(src *Source) *decoder {
	return &decoder{src: src, budget: nodeBudget}
}

func (d *decoder) fail(n *yaml.Node, path, problem, fix string) {
	e := &FieldError{Path: path, Problem: problem, Fix: fix}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) record(path string, n *yaml.Node) {
	if _, ok := d.src.Positions[path]; !ok {
		d.src.Positions[path] = Position{Line: n.Line, Column: n.Column}
	}
}

// resolve follows aliases and charges the node to the budget; it returns
// nil when the walk must stop.
func (d *decoder) resolve(n *yaml.Node, path string) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 || n.Alias == nil {
			d.fail(n, path, "alias cannot be resolved", "write the value out instead of using an alias")
			return nil
		}
		n = n.Alias
	}
	if n == nil || !d.charge(1, n, path) {
		return nil
	}
	return n
}

// charge takes cost nodes from the budget and reports whether any were
// left.
func (d *decoder) charge(cost int, n *yaml.Node, path string) bool {
	d.budget -= cost
	if d.budget >= 0 {
		return true
	}
	if !d.exhausted {
		d.exhausted = true
		d.fail(n, path, fmt.Sprintf("the file expands to more than %d YAML nodes", nodeBudget), "write the values out instead of nesting aliases")
	}
	return false
}

// value decodes n into v, which must be settable. raw makes scalar map
// values keep their text whatever their YAML type (neo4j.conf values such
// as `true` or `4g` are text to Neo4j).
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string, raw bool) {
	n = d.resolve(n, path)
	if n == nil {
		return
	}
	if isNull(n) {
		// An empty value ("tls:") means "not set", as in Kubernetes.
		v.Set(reflect.Zero(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.value(n, p.Elem(), path, raw)
		v.Set(p)
	case reflect.Struct:
		d.structValue(n, v, path)
	case reflect.Map:
		d.mapValue(n, v, path, raw)
	case reflect.Slice:
		d.sliceValue(n, v, path, raw)
	case reflect.String:
		d.stringValue(n, v, path, raw)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		d.intValue(n, v, path)
	case reflect.Bool:
		d.boolValue(n, v, path)
	default:
		// Only reachable if types.go gains a field of a kind this decoder
		// does not know; report it instead of panicking.
		d.fail(n, path, fmt.Sprintf("internal error: cannot decode into %s", v.Type()), "report this as a neo4jctl bug")
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what the file holds at n, for "got …" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "string " + strconv.Quote(n.Value)
		case "!!int":
			return "integer " + n.Value
		case "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		case "!!null":
			return "null"
		case "!!timestamp":
			return "timestamp " + n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected YAML node"
}

func (d *decoder) stringValue(n *yaml.Node, v reflect.Value, path string, raw bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "must be a string, got "+describe(n), "")
		return
	}
	switch tag := n.ShortTag(); {
	case tag == "!!str", raw, tag == "!!binary":
		v.SetString(n.Value)
	default:
		d.fail(n, path, "must be a string, got "+describe(n), fmt.Sprintf("quote it: %q", n.Value))
	}
}

func (d *decoder) intValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "must be an integer, got "+describe(n), "")
		return
	}
	bits := v.Type().Bits()
	switch n.ShortTag() {
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			d.fail(n, path, fmt.Sprintf("must be an integer of at most %d, got %s", int64(math.MaxInt64>>(64-bits)), n.Value), "")
			return
		}
		if v.OverflowInt(i) {
			d.fail(n, path, fmt.Sprintf("must be an integer between %d and %d, got %d", int64(math.MinInt64>>(64-bits)), int64(math.MaxInt64>>(64-bits)), i), "")
			return
		}
		v.SetInt(i)
	case "!!str":
		fix := ""
		if _, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64); err == nil {
			fix = "remove the quotes"
		}
		d.fail(n, path, "must be an integer, got "+describe(n), fix)
	default:
		d.fail(n, path, "must be an integer, got "+describe(n), "")
	}
}

func (d *decoder) boolValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			v.SetBool(b)
			return
		}
	}
	fix := ""
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		switch strings.ToLower(n.Value) {
		case "yes", "no", "on", "off", "y", "n":
			fix = "YAML 1.2 reads " + n.Value + " as a string: write true or false"
		case "true", "false":
			fix = "remove the quotes"
		}
	}
	d.fail(n, path, "must be true or false, got "+describe(n), fix)
}

func (d *decoder) sliceValue(n *yaml.Node, v reflect.Value, path string, raw bool) {
	if n.Kind != yaml.SequenceNode {
		fix := ""
		if n.Kind == yaml.ScalarNode {
			fix = fmt.Sprintf("write a list: [%s]", n.Value)
		}
		d.fail(n, path, "must be a list, got "+describe(n), fix)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.record(p, item)
		d.value(item, s.Index(i), p, raw)
	}
	v.Set(s)
}

// pair is one key and value of a mapping; merged pairs come from a YAML
// merge key (<<) and give way to keys written explicitly.
type pair struct {
	key, value *yaml.Node
	merged     bool
}

// pairs lists the entries of mapping n, explicit keys first, then those
// merged in with "<<" (which explicit keys override, as YAML specifies).
func (d *decoder) pairs(n *yaml.Node, path string, merged bool, depth int) []pair {
	// A mapping merged in many times is charged each time: a merge key
	// can copy a large mapping as cheaply as an alias.
	if merged && !d.charge(len(n.Content)/2, n, path) {
		return nil
	}
	var explicit, fromMerge []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" && depth < 10 {
			src := d.resolve(val, path)
			if src == nil {
				continue
			}
			sources := []*yaml.Node{src}
			if src.Kind == yaml.SequenceNode {
				sources = nil
				for _, s := range src.Content {
					if s = d.resolve(s, path); s != nil {
						sources = append(sources, s)
					}
				}
			}
			for _, s := range sources {
				if s.Kind != yaml.MappingNode {
					d.fail(s, path, "a merge key (<<) must refer to a mapping, got "+describe(s), "")
					continue
				}
				fromMerge = append(fromMerge, d.pairs(s, path, true, depth+1)...)
			}
			continue
		}
		explicit = append(explicit, pair{key: k, value: val, merged: merged})
	}
	return append(explicit, fromMerge...)
}

// key returns the text of a mapping key, reporting keys that are not
// scalars (YAML allows "? [a, b]: c"; JSON and Kubernetes do not).
func (d *decoder) key(k *yaml.Node, path string) (string, bool) {
	k = d.resolve(k, path)
	if k == nil {
		return "", false
	}
	if k.Kind != yaml.ScalarNode {
		d.fail(k, path, "keys must be strings, got "+describe(k), "")
		return "", false
	}
	return k.Value, true
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value, path string, raw bool) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping, got "+describe(n), "")
		return
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, path, false, 0) {
		name, ok := d.key(p.key, path)
		if !ok {
			continue
		}
		child := path + "[" + name + "]"
		if first, dup := seen[name]; dup {
			if !p.merged {
				d.fail(p.key, child, fmt.Sprintf("duplicate key %q, first set on line %d", name, first.Line), "remove one of them")
			}
			continue
		}
		seen[name] = p.key
		d.record(child, p.key)
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(p.value, elem, child, raw)
		m.SetMapIndex(reflect.ValueOf(name).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

// field is a struct field as the cluster file names it.
type field struct {
	name  string
	index int
	raw   bool
}

var fieldCache sync.Map // reflect.Type → []field

// fieldsOf lists the fields a file may set on t: those with a json name.
func fieldsOf(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var fields []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		fields = append(fields, field{name: name, index: i, raw: sf.Tag.Get("clusterfile") == "rawscalars"})
	}
	fieldCache.Store(t, fields)
	return fields
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping, got "+describe(n), "")
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, path, false, 0) {
		name, ok := d.key(p.key, path)
		if !ok {
			continue
		}
		child := join(path, name)
		if first, dup := seen[name]; dup {
			if !p.merged {
				d.fail(p.key, child, fmt.Sprintf("duplicate key %q, first set on line %d", name, first.Line), "remove one of them")
			}
			continue
		}
		seen[name] = p.key
		f, ok := lookupField(fields, name)
		if why, refused := safetyFields[v.Type().Name()][name]; !ok && refused {
			d.fail(p.key, child, fmt.Sprintf("%s cannot be set: neo4jctl sets it", name), why)
			continue
		}
		if !ok {
			d.fail(p.key, child, fmt.Sprintf("unknown field %q", name), unknownFieldFix(v.Type(), fields, name, path))
			continue
		}
		d.record(child, p.key)
		d.value(p.value, v.Field(f.index), child, f.raw)
	}
}

func lookupField(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// synonyms maps names people reach for (from Helm charts, other operators
// or Kubernetes habits) to the field this file calls it, per struct.
var synonyms = map[string]map[string]string{
	"Spec": {
		"replica": "servers", "replicas": "servers", "size": "servers", "members": "servers",
		"nodes": "servers", "serverCount": "servers", "cores": "servers", "primaries": "systemPrimaries",
		"license": "acceptLicenseAgreement", "licence": "acceptLicenseAgreement",
		"acceptLicense": "acceptLicenseAgreement", "acceptLicenceAgreement": "acceptLicenseAgreement",
		"licenseAgreement": "acceptLicenseAgreement", "password": "auth", "neo4jConf": "config",
		"conf": "config", "settings": "config", "pools": "serverPools", "secondaries": "serverPools",
		"readReplicas": "serverPools", "imageTag": "version", "tag": "version", "pluginList": "plugins",
		"namespace": "metadata.namespace", "name": "metadata.name",
		"affinity": "scheduling", "nodeSelector": "scheduling", "tolerations": "scheduling",
		"metrics": "monitoring", "service": "services", "persistence": "storage", "volumes": "storage",
		"podAnnotations": "spec.pod.annotations", "podLabels": "spec.pod.labels",
		"serviceAccountAnnotations": "spec.serviceAccount.annotations", "env": "extraEnv",
		"extraContainers": "sidecars", "extraVolumeMounts": "extraVolumes", "imageDigest": "image",
	},
	"Metadata":     {"ns": "namespace"},
	"Volume":       {"storageClass": "storageClassName", "capacity": "size", "storage": "size"},
	"Auth":         {"secret": "secretRef", "secretName": "secretRef", "existingSecret": "secretRef", "passwordFromSecret": "secretRef"},
	"ServerPool":   {"replicas": "servers", "size": "servers", "mode": "modeConstraint"},
	"ResourceList": {"mem": "memory", "ram": "memory", "cpus": "cpu"},
	"Database":     {"primaries": "topology", "secondaries": "topology"},
	"Topology":     {"primary": "primaries", "secondary": "secondaries", "replicas": "secondaries"},
	"Metrics":      {"enable": "enabled"},
	"NetworkPolicy": {
		"enable": "enabled", "clients": "allowedClients", "from": "allowedClients",
	},
	"ServiceMonitor": {"enable": "enabled", "scrapeInterval": "interval"},
}

// safetyFields are fields other charts and operators offer that neo4jctl
// deliberately does not, per struct: each would replace what its safety
// relies on, and the error says what instead.
var safetyFields = func() map[string]map[string]string {
	const (
		sc    = "every container runs under the restricted security context neo4jctl renders (non-root, read-only root filesystem, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp); mount an emptyDir from spec.extraVolumes where a writable path is needed"
		probe = "neo4jctl's probes (the cluster status endpoints; Bolt for Community) and its own checks (server Enabled, databases online) decide when a server is ready and when a rolling restart may go on; tune their thresholds in spec.probes"
		host  = "the servers never share the node's network, PID or IPC namespaces under restricted Pod Security"
	)
	pod := map[string]string{
		"securityContext": sc, "podSecurityContext": sc, "containerSecurityContext": sc,
		"livenessProbe": probe, "readinessProbe": probe, "startupProbe": probe,
		"hostNetwork": host, "hostPID": host, "hostIPC": host,
	}
	return map[string]map[string]string{
		"Spec":    pod,
		"PodMeta": pod,
		"Sidecar": {"securityContext": sc, "privileged": sc,
			"livenessProbe":  "a sidecar's probes would restart or unready the Pod, and " + probe,
			"readinessProbe": "a sidecar's probes would restart or unready the Pod, and " + probe,
			"startupProbe":   "a sidecar's probes would restart or unready the Pod, and " + probe},
	}
}()

// unknownFieldFix suggests the field the author most likely meant.
func unknownFieldFix(t reflect.Type, fields []field, name, path string) string {
	if s, ok := synonyms[t.Name()][name]; ok {
		if strings.Contains(s, ".") {
			return "it belongs in " + s
		}
		return fmt.Sprintf("did you mean %q?", s)
	}
	best, bestDist := "", math.MaxInt
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return fmt.Sprintf("did you mean %q? field names are case-sensitive", f.name)
		}
		dist := levenshtein(strings.ToLower(name), strings.ToLower(f.name))
		if dist < bestDist {
			best, bestDist = f.name, dist
		}
	}
	if best != "" && bestDist <= maxTypos(name) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	where := path
	if where == "" {
		where = "the top level"
	}
	if len(names) > 12 {
		return fmt.Sprintf("remove it; `neo4jctl schema` lists the fields of %s", where)
	}
	sort.Strings(names)
	return fmt.Sprintf("remove it; %s takes %s", where, strings.Join(names, ", "))
}

// maxTypos is how far a misspelling may be from the intended name to be
// suggested: a third of its length, at least one.
func maxTypos(s string) int {
	return max(1, len(s)/3)
}

// levenshtein is the edit distance between a and b.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
