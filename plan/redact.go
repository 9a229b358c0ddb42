package plan

// Redaction. Every value a plan holds passes through redact or
// redactSetting before it is stored, so the plan's views, its JSON
// document and saved plan files never carry a credential. Views that print
// values the plan does not hold (drift's live Neo4j settings, render's
// objects) pass them through RedactText.
//
// What is hidden, everywhere and inside any value:
//
//   - every value of a Secret (data and stringData), and every value
//     neo4jctl read from a Secret or password file (RegisterSecretValue)
//     wherever it appears;
//   - every value whose key names a credential: a neo4j.conf setting, a
//     ConfigMap key, an env variable (env variables also match "auth",
//     for NEO4J_AUTH, and any env value taken from a Secret);
//   - inside any string, the value of a credential-named
//     key=value pair (also -Dkey=value and key="quoted value"),
//     --key value flag, and "key": "value" JSON member, and the password
//     of any URL's userinfo (scheme://user:password@host). A value that is
//     true/false or a short number (auth_minimum_password_length=12) is a
//     setting about credentials and stays visible.
//
// A setting, ConfigMap key or env name names a credential when it
// contains, in any case, one of password, passwd, secret, token, credential
// or key (credentialWords); a key inside text when it contains one of
// password, passwd, secret, token, credential, apikey or accesskey, with or without an underscore (textCredentialWords). The list is deliberately broad: hiding a harmless value costs a
// line of detail, showing a password costs a rotation. The patterns are
// documented for users in docs/plan-json.md ("Redaction").

import (
	"slices"
	"strings"
	"sync"

	"github.com/neo4jctl/neo4jctl/internal/lazyre"
)

// credentialWords are the words that make a setting, ConfigMap key or env
// name a credential.
const credentialWords = `password|passwd|secret|token|credential|key`

// textCredentialWords are the words that make a key inside free text name a
// credential. A bare "key" is left out: in text it is mostly a field name
// ({"key": "password"} of a secretKeyRef) or a file name
// (private_key=private.key), not a credential.
const textCredentialWords = `password|passwd|secret|token|credential|api_?key|access_?key`

// sensitiveConfigKey matches configuration keys whose values must never be
// shown.
var sensitiveConfigKey = lazyre.New(`(?i)` + credentialWords)

// Patterns of credentials inside free text. keyChars are the characters of
// a setting, property or flag name; a value ends at white space or, in a
// URL query, at & or ;.
const (
	keyChars  = `[A-Za-z0-9_.\-]*`
	credKey   = keyChars + `(?i:` + textCredentialWords + `)` + keyChars
	textValue = `"[^"]*"|'[^']*'|[^\s"'&;,]+`
)

var (
	// kvPair: key=value, -Dkey=value, ?access_token=value.
	kvPair = lazyre.New(`(` + credKey + `[ \t]*=[ \t]*)(` + textValue + `)`)
	// flagPair: --key value (the value does not start with -).
	flagPair = lazyre.New(`((?:^|\s)--?` + credKey + `[ \t]+)("[^"]*"|'[^']*'|[^\s\-"'][^\s]*)`)
	// credentialFlag is an argv element naming a credential: its value is
	// the next element.
	credentialFlag = lazyre.New(`^--?` + credKey + `$`)
	// jsonMember: "key": "value" inside a JSON document held as a string.
	jsonMember = lazyre.New(`("` + credKey + `"[ \t]*:[ \t]*)("(?:[^"\\]|\\.)*")`)
	// aboutCredential is a value of a setting about credentials rather
	// than a credential: a boolean, or a short number with an optional
	// unit (auth_minimum_password_length=12, token_ttl=30m).
	aboutCredential = lazyre.New(`^(?i:true|false|[0-9]{1,3}[a-z]{0,2})$`)
	// urlUserinfo: scheme://user:password@host.
	urlUserinfo = lazyre.New(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*:)([^\s/@]+)(@)`)
)

// secretValues are the values of Secrets neo4jctl has read (the Neo4j
// password), hidden wherever they appear, whatever their key: like
// GitHub Actions' add-mask, a process-wide list, because the value may
// surface in any output of any cluster the process handles.
var secretValues struct {
	sync.RWMutex
	list []string
}

// minSecretLength keeps a trivially short value from masking unrelated
// text everywhere.
const minSecretLength = 4

// RegisterSecretValue makes RedactText hide v from now on, wherever it
// appears. Callers register every value they read from a Secret or a
// password file, before anything that could print it runs.
func RegisterSecretValue(v string) {
	if len(v) < minSecretLength || v == Sensitive {
		return
	}
	secretValues.Lock()
	defer secretValues.Unlock()
	if !slices.Contains(secretValues.list, v) {
		secretValues.list = append(secretValues.list, v)
		// Longest first, so a value containing another is hidden whole.
		slices.SortFunc(secretValues.list, func(a, b string) int { return len(b) - len(a) })
	}
}

func redactSecretValues(s string) string {
	secretValues.RLock()
	defer secretValues.RUnlock()
	for _, v := range secretValues.list {
		s = strings.ReplaceAll(s, v, Sensitive)
	}
	return s
}

// RedactText returns s with every credential it holds replaced by
// Sensitive: the values registered with RegisterSecretValue, the values of
// credential-named key=value pairs, --key value flags and JSON members, and
// URL passwords. The rest of s is kept, so a reader still sees which
// setting changed. It is idempotent.
func RedactText(s string) string {
	if s == "" || s == Sensitive {
		return s
	}
	s = redactSecretValues(s)
	if !mayHoldCredential(s) {
		return s
	}
	s = urlUserinfo.ReplaceAllString(s, "${1}"+Sensitive+"${3}")
	s = jsonMember.ReplaceAllString(s, `${1}"`+Sensitive+`"`)
	s = kvPair.ReplaceAllStringFunc(s, func(m string) string {
		sub := kvPair.FindStringSubmatch(m)
		if aboutCredential.MatchString(sub[2]) {
			return m
		}
		return sub[1] + Sensitive
	})
	s = flagPair.ReplaceAllString(s, "${1}"+Sensitive)
	return s
}

// textWords are textCredentialWords spelt out, for the cheap test that
// spares most strings the regular expressions (Compute redacts every
// string of every object twice).
var textWords = []string{"password", "passwd", "secret", "token", "credential", "apikey", "api_key", "accesskey", "access_key"}

// mayHoldCredential reports whether s could match one of the patterns of
// RedactText: a URL, or a credential word next to '=', '-' or ':'.
func mayHoldCredential(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	if !strings.ContainsAny(s, "=-:") {
		return false
	}
	l := strings.ToLower(s)
	for _, w := range textWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// RedactSetting returns the value of a Neo4j setting as it may be shown:
// Sensitive when the key names a credential, else the value with any
// credential inside it hidden.
func RedactSetting(key, value string) string { return redactSetting(key, value) }

// sensitiveEnvName also catches NEO4J_AUTH ("neo4j/<password>").
var sensitiveEnvName = lazyre.New(`(?i)password|secret|token|credential|key|auth`)

// confLine matches a "key=value" line of neo4j.conf or a similar file.
var confLine = lazyre.New(`^(\s*)([A-Za-z0-9_.\-]+)(\s*=\s*)(.*)$`)

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
			// An argv list splits "--password value" into two elements.
			if prev, ok := x[max(i-1, 0)].(string); ok && i > 0 && credentialFlag.MatchString(prev) {
				if v, ok := e.(string); ok && !strings.HasPrefix(v, "-") {
					out[i] = Sensitive
				}
			}
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
		return RedactText(x)
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
		return RedactText(s)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		m := confLine.FindStringSubmatch(l)
		if m != nil && SensitiveKey(m[2]) && m[4] != "" {
			lines[i] = m[1] + m[2] + m[3] + Sensitive
			continue
		}
		lines[i] = RedactText(l)
	}
	return strings.Join(lines, "\n")
}

// redactSetting hides a setting's value when its key names a credential.
func redactSetting(key, value string) string {
	if SensitiveKey(key) {
		return Sensitive
	}
	return RedactText(value)
}

// RedactValue returns a copy of a JSON-shaped value with RedactText applied
// to every string in it, for views that print values the plan did not
// redact (live Neo4j settings in a drift report).
func RedactValue(v any) any {
	switch x := v.(type) {
	case string:
		return RedactText(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = RedactValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = RedactValue(e)
		}
		return out
	}
	return v
}

// RedactObject returns a copy of a Kubernetes object (JSON-shaped) for
// `neo4jctl render`: a Secret's values and every credential inside a
// string (RedactText) are hidden. Unlike a plan it keeps values that are
// only named like credentials (the private_key file name of an SSL policy,
// NEO4J_AUTH's $(AUTH_PASSWORD) reference), so that what a file without
// credentials renders stays fit to apply.
func RedactObject(obj map[string]any) map[string]any {
	if kind, _ := obj["kind"].(string); kind == "Secret" {
		out, _ := redact(kind, nil, obj).(map[string]any)
		return out
	}
	out, _ := RedactValue(obj).(map[string]any)
	return out
}

// RedactLiveObject returns a copy of a Kubernetes object (JSON-shaped)
// redacted exactly as a plan stores objects: a Secret's values, env values
// and ConfigMap keys and lines named like credentials, and every
// credential inside any string. Unlike RedactObject it does not keep
// values fit to apply: for copies of live objects that leave neo4jctl
// (the support bundle of `neo4jctl report`).
func RedactLiveObject(obj map[string]any) map[string]any {
	kind, _ := obj["kind"].(string)
	out, _ := redact(kind, nil, obj).(map[string]any)
	return out
}
