package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

// usage is where one timed run's work went: the client's own CPU (user +
// system, getrusage of the child), the API server's and etcd's CPU over the
// run (/proc/<pid>/stat), and the client's requests as the API server's
// audit log recorded them, by kind of request.
type usage struct {
	clientCPU    time.Duration
	apiserverCPU time.Duration
	etcdCPU      time.Duration
	requests     map[string]int // "verb resource" (dry runs apart) → count
	// inServer is, per kind of request, the sum of the time each spent in
	// the API server (audit requestReceivedTimestamp → ResponseComplete):
	// its work plus its wait for a core, etcd or admission.
	inServer map[string]time.Duration
}

// auditEvent is an audit log line with the time the request arrived.
type auditEvent struct {
	testenv.AuditEvent
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
}

// auditEvents reads the audit log of e like e.AuditEvents, with arrival
// times.
func auditEvents(e *testenv.Env) ([]auditEvent, error) {
	f, err := os.Open(e.AuditLogPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []auditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var ev auditEvent
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			out = append(out, ev)
		}
	}
	return out, sc.Err()
}

func (u usage) total() int {
	n := 0
	for _, c := range u.requests {
		n += c
	}
	return n
}

// procCPU is the user + system CPU a process has used so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	// USER_HZ is 100 on every Linux this runs on.
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// planeCPU reads the API server's and etcd's CPU so far.
func planeCPU(e *testenv.Env) (apiserver, etcd time.Duration) {
	pids := e.Running()
	return procCPU(pids["kube-apiserver"]), procCPU(pids["etcd"])
}

// measureUsage runs c once and reports where its work went. The audit log
// is read after the run; requests are attributed by user agent (kubectl's
// starts "kubectl", neo4jctl's "neo4jctl") and by time.
func measureUsage(c cmdline, agentPrefix string) (runResult, usage) {
	a0, e0 := planeCPU(env)
	start := time.Now()
	r := c.run()
	end := time.Now()
	a1, e1 := planeCPU(env)
	u := usage{clientCPU: r.cpu, apiserverCPU: a1 - a0, etcdCPU: e1 - e0, requests: map[string]int{}, inServer: map[string]time.Duration{}}
	// The audit log is written asynchronously (batch backend off: the log
	// backend writes as requests complete); give it a moment.
	time.Sleep(300 * time.Millisecond)
	events, err := auditEvents(env)
	if err != nil {
		logf("audit log: %v", err)
		return r, u
	}
	for _, ev := range events {
		if !strings.HasPrefix(ev.UserAgent, agentPrefix) || ev.Stage != "ResponseComplete" || ev.StageTimestamp.Before(start) || ev.StageTimestamp.After(end.Add(time.Second)) {
			continue
		}
		k := requestKind(ev.AuditEvent)
		u.requests[k]++
		if !ev.RequestReceivedTimestamp.IsZero() {
			u.inServer[k] += ev.StageTimestamp.Sub(ev.RequestReceivedTimestamp)
		}
	}
	return r, u
}

// requestKind names an audited request: verb and resource, a dry run
// apart, discovery and OpenAPI grouped.
func requestKind(ev testenv.AuditEvent) string {
	if ev.ObjectRef == nil {
		switch {
		case strings.HasPrefix(ev.RequestURI, "/openapi"):
			return "get openapi"
		case strings.HasPrefix(ev.RequestURI, "/api"), strings.HasPrefix(ev.RequestURI, "/version"):
			return "get discovery"
		}
		return ev.Verb + " " + ev.RequestURI
	}
	res := ev.ObjectRef.Resource
	if ev.ObjectRef.Subresource != "" {
		res += "/" + ev.ObjectRef.Subresource
	}
	verb := ev.Verb
	if strings.Contains(ev.RequestURI, "dryRun=All") {
		verb += " (dry run)"
	}
	return verb + " " + res
}

// usageMarkdown renders the breakdowns of the fleet apply runs as a table:
// one column per tool, one row per kind of request, then the CPU.
func usageMarkdown(cols []string, us []usage, objects int) string {
	kinds := map[string]bool{}
	for _, u := range us {
		for k := range u.requests {
			kinds[k] = true
		}
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	b.WriteString("| | " + strings.Join(cols, " | ") + " |\n|---" + strings.Repeat("|---", len(cols)) + "|\n")
	for _, k := range ks {
		fmt.Fprintf(&b, "| %s |", k)
		for _, u := range us {
			if n := u.requests[k]; n > 0 && u.inServer[k] > 0 {
				fmt.Fprintf(&b, " %d (Σ %s, %.1f ms each) |", n, ms(u.inServer[k]), float64(u.inServer[k].Microseconds())/1000/float64(n))
			} else {
				fmt.Fprintf(&b, " %d |", n)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("| **requests** |")
	for _, u := range us {
		fmt.Fprintf(&b, " **%d** (%.1f per object) |", u.total(), float64(u.total())/float64(max(objects, 1)))
	}
	b.WriteString("\n| time in the API server (Σ over requests) |")
	for _, u := range us {
		var t time.Duration
		for _, d := range u.inServer {
			t += d
		}
		fmt.Fprintf(&b, " %s |", ms(t))
	}
	b.WriteString("\n| client CPU (user+sys) |")
	for _, u := range us {
		fmt.Fprintf(&b, " %s |", ms(u.clientCPU))
	}
	b.WriteString("\n| kube-apiserver CPU |")
	for _, u := range us {
		fmt.Fprintf(&b, " %s |", ms(u.apiserverCPU))
	}
	b.WriteString("\n| etcd CPU |")
	for _, u := range us {
		fmt.Fprintf(&b, " %s |", ms(u.etcdCPU))
	}
	b.WriteString("\n")
	return b.String()
}
