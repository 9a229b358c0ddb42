package plan

import (
	"regexp"
	"strings"
)

// sensitiveConfigKey matches configuration keys whose values must never be
// shown. It is deliberately broad: hiding a harmless value costs a line of
// detail, showing a password costs a rotation.
var sensitiveConfigKey = regexp.MustCompile(`(?i)password|secret|token|credential|key`)

// sensitiveEnvName also catches NEO4J_AUTH ("neo4j/<password>").
var sensitiveEnvName = regexp.MustCompile(`(?i)password|secret|token|credential|key|auth`)

// confLine matches a "key=value" line of neo4j.conf or a similar file.
var confLine = regexp.MustCompile(`^(\s*)([A-Za-z0-9_.\-]+)(\s*=\s*)(.*)$`)

// SensitiveKey reports whether a configuration key names a credential, so
// its value is redacted in plans, views and logs.
func SensitiveKey(key string) bool { return sensitiveConfigKey.MatchString(key) }

// redact returns a deep copy of the JSON-shaped value v of an object of the
// given kind, found at segs inside it, with every secret value replaced by
// Sensitive: Secret data, env values that name a credential or come from a
// Secret, ConfigMap keys that name a credential and credential lines inside
// ConfigMap files.
func redact(kind string, segs []string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		env := isEnvElement(segs) && sensitiveEnv(x)
		for k, val := range x {
			if env && k == "value" {
				out[k] = Sensitive
				continue
			}
			out[k] = redact(kind, appendSeg(segs, k), val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			seg := "[i]"
			if m, ok := e.(map[string]any); ok {
				if n, ok := m["name"].(string); ok {
					seg = "[name=" + n + "]"
				}
			}
			out[i] = redact(kind, appendSeg(segs, seg), e)
		}
		return out
	case string:
		if len(segs) >= 2 && kind == "Secret" && (segs[0] == "data" || segs[0] == "stringData") {
			return Sensitive
		}
		if len(segs) == 2 && kind == "ConfigMap" && (segs[0] == "data" || segs[0] == "binaryData") {
			if SensitiveKey(segs[1]) {
				return Sensitive
			}
			return redactConf(x)
		}
		if isEnvValue(segs) && SensitiveKey(envNameOf(segs)) {
			return Sensitive
		}
		return x
	}
	return v
}

// isEnvElement reports whether segs point at an element of an env list.
func isEnvElement(segs []string) bool {
	return len(segs) >= 2 && segs[len(segs)-2] == "env" && strings.HasPrefix(segs[len(segs)-1], "[")
}

// isEnvValue reports whether segs point at the value of an env element; the
// element map case above handles whole elements, this handles a field diff
// that starts at the value itself.
func isEnvValue(segs []string) bool {
	return len(segs) >= 3 && segs[len(segs)-1] == "value" && isEnvElement(segs[:len(segs)-1])
}

func envNameOf(segs []string) string {
	s := segs[len(segs)-2]
	if _, v, ok := strings.Cut(strings.Trim(s, "[]"), "="); ok {
		return v
	}
	return ""
}

func sensitiveEnv(m map[string]any) bool {
	if n, ok := m["name"].(string); ok && sensitiveEnvName.MatchString(n) {
		return true
	}
	if vf, ok := m["valueFrom"].(map[string]any); ok {
		if _, ok := vf["secretKeyRef"]; ok {
			return true
		}
	}
	return false
}

// redactConf hides the values of credential lines in a key=value file.
func redactConf(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		m := confLine.FindStringSubmatch(l)
		if m != nil && SensitiveKey(m[2]) && m[4] != "" {
			lines[i] = m[1] + m[2] + m[3] + Sensitive
		}
	}
	return strings.Join(lines, "\n")
}

// redactSetting hides a setting's value when its key names a credential.
func redactSetting(key, value string) string {
	if SensitiveKey(key) {
		return Sensitive
	}
	return value
}
