package clusterfile

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Neo4j refuses to start on an unknown setting of its own namespaces when
// server.config.strict_validation.enabled is true (Operations Manual 5.x,
// Configuration settings, server.config.strict_validation.enabled: "will
// prevent the database from starting up if unknown configuration options
// are specified in the neo4j settings namespace (such as dbms., cypher.,
// etc)"). neo4jctl renders it true, so validate checks spec.config keys
// against the settings of the target version before anything is applied.

// settingNamespaces are the first segments of the settings of the table:
// keys outside them are not Neo4j's (a plugin's apoc.* settings live in
// apoc.conf) and are left alone.
var settingNamespaces = []string{"browser", "client", "db", "dbms", "initial", "server"}

// settingGroups are documented families of settings whose middle segment
// is chosen by the user, as prefix and the settings allowed after the
// user's segment (nil: any).
var settingGroups = []struct {
	prefix string
	after  []string
}{
	// Configuration settings, "Configuration setting group".
	{prefix: "dbms.routing.load_balancing.config.server_policies."},
	// The dbms.security.oidc.-provider-.* entries.
	{prefix: "dbms.security.oidc.", after: settings526OIDC},
}

var settings526Set = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, len(settings526))
	for _, s := range settings526 {
		m[s] = true
	}
	return m
})

// checkedSettings reports whether neo4jctl knows the settings of a Neo4j
// version: only 5.26 LTS, whose reference the table was built from. A
// calendar version (2025.x) adds and renames settings; its keys are left to
// the server.
func checkedSettings(version string) bool { return ltsVersion.MatchString(version) }

// knownSetting reports whether key is a 5.26 setting, or not in Neo4j's
// namespaces at all.
func knownSetting(key string) bool {
	ns, _, _ := strings.Cut(key, ".")
	if !slices.Contains(settingNamespaces, ns) || settings526Set()[key] {
		return true
	}
	for _, g := range settingGroups {
		rest, ok := strings.CutPrefix(key, g.prefix)
		if !ok {
			continue
		}
		name, setting, ok := strings.Cut(rest, ".")
		if g.after == nil {
			return name != ""
		}
		if ok && name != "" && slices.Contains(g.after, setting) {
			return true
		}
	}
	return false
}

// nearestSetting suggests the setting an unknown key was probably meant to
// be: a close spelling, or else a setting ending in the same segments (a
// 4.x name such as dbms.memory.heap.max_size, now
// server.memory.heap.max_size).
func nearestSetting(key string) string {
	best, bestDist := "", max(2, len(key)/10)+1
	for _, s := range settings526 {
		if d := levenshtein(key, s); d < bestDist {
			best, bestDist = s, d
		}
	}
	if best != "" {
		return best
	}
	segs := strings.Split(key, ".")
	for n := len(segs) - 1; n >= 2; n-- {
		suffix := "." + strings.Join(segs[len(segs)-n:], ".")
		var hits []string
		for _, s := range settings526 {
			if strings.HasSuffix(s, suffix) {
				hits = append(hits, s)
			}
		}
		if len(hits) == 1 {
			return hits[0]
		}
	}
	return ""
}

// unknownSetting returns the problem and fix of a key Neo4j 5.26 does not
// know, or "" when it knows it.
func unknownSetting(key string) (problem, fix string) {
	if knownSetting(key) {
		return "", ""
	}
	problem = fmt.Sprintf("Neo4j 5.26 has no setting %q, and neo4jctl renders server.config.strict_validation.enabled=true, so the server would refuse to start", key)
	if s := nearestSetting(key); s != "" {
		return problem, fmt.Sprintf("did you mean %q?", s)
	}
	return problem, "check the name in the Operations Manual, Configuration settings"
}

// DefaultPageCache is the page cache neo4jctl renders when spec.config does
// not size it: without it Neo4j sizes the page cache from the machine's
// memory, not the container's limit (Operations Manual, Memory
// configuration, "Always use explicit configuration").
const DefaultPageCache = "512M"

const mebibyte = 1 << 20

// jvmOverhead is what a Neo4j JVM uses besides its heap and page cache:
// thread stacks, metaspace, code cache, network and other direct buffers
// (Operations Manual, Memory configuration: "Native memory", "Network
// buffers", "JVM overhead"). The manual gives no figure; neo4jctl counts
// 10% of the limit and at least 256Mi, which the examples leave room for.
func jvmOverhead(limit float64) float64 { return max(256*mebibyte, limit/10) }

// memory checks that heap + page cache + JVM overhead fit in the memory
// limit of every pool's server container: above it the kernel OOM-kills the
// server as soon as the page cache warms up. Values that do not parse are
// left to the checks that report them.
func (v *validator) memory(s *Spec) {
	heap := 0.0
	heapKey := ""
	for _, k := range []string{"server.memory.heap.initial_size", "server.memory.heap.max_size"} {
		if f, err := ParseAmount(s.Config[k], true); err == nil && f >= heap {
			heap, heapKey = f, k
		}
	}
	pcValue := s.Config["server.memory.pagecache.size"]
	if pcValue == "" {
		pcValue = DefaultPageCache
	}
	pc, err := ParseAmount(pcValue, true)
	if err != nil {
		return
	}
	check := func(path, limitValue string) {
		limit, err := ParseAmount(limitValue, false)
		if limitValue == "" || err != nil || limit <= 0 {
			return
		}
		over := jvmOverhead(limit)
		if heap+pc+over <= limit {
			return
		}
		parts := fmt.Sprintf("page cache %s", pcValue)
		if heapKey != "" {
			parts = fmt.Sprintf("heap %s + %s", s.Config[heapKey], parts)
		}
		fix := "lower server.memory.pagecache.size or raise the limit"
		if heapKey != "" {
			fix = "lower " + heapKey + " or server.memory.pagecache.size, or raise the limit"
		} else if s.Config["server.memory.pagecache.size"] == "" {
			fix = "set server.memory.pagecache.size in spec.config, or raise the limit"
		}
		v.add(path, fmt.Sprintf("%s + JVM overhead %s is %s, more than the memory limit %s: the server would be OOM-killed",
			parts, bytesText(over), bytesText(heap+pc+over), limitValue), fix)
	}
	check("spec.resources.neo4j.limits.memory", s.Resources.Neo4j.Limits.Memory)
	for i, p := range s.ServerPools {
		if p.Resources != nil {
			check(fmt.Sprintf("spec.serverPools[%d].resources.neo4j.limits.memory", i), p.Resources.Neo4j.Limits.Memory)
		}
	}
}

// bytesText writes a byte count in Mi, or Gi with one decimal, as limits
// are written.
func bytesText(b float64) string {
	if b >= 1024*mebibyte {
		return strings.TrimSuffix(strconv.FormatFloat(b/(1024*mebibyte), 'f', 1, 64), ".0") + "Gi"
	}
	return strconv.FormatFloat(math.Round(b/mebibyte), 'f', -1, 64) + "Mi"
}
