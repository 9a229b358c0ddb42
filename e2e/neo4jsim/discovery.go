package neo4jsim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Discovery service v1 and v2 on 5.x servers, and the move between them
// (Operations Manual 5.x, clustering/setup/discovery.adoc § Moving from
// discovery service v1 to v2). Each server runs a mode: the one its
// configuration names when it starts, changed by the move procedure and
// lost at the next restart. 2025.x servers run only v2 and have none of
// the procedures.

// discoveryModes in the order the move goes through them.
var discoveryModes = []string{"V1_ONLY", "V1_OVER_V2", "V2_OVER_V1", "V2_ONLY"}

// calendarVersion reports whether v is a 2025.01+ version.
func calendarVersion(v string) bool {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 2025
}

// versionAtLeast compares a version's first two numbers with
// major.minor.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	return err1 == nil && err2 == nil && (ma > major || ma == major && mi >= minor)
}

// discoveryMode is the mode srv runs (fact: discovery.mode): what the move
// set since it started, else its dbms.cluster.discovery.version at
// start, default V1_ONLY on 5.x; always V2_ONLY on 2025.x.
func (s *Simulator) discoveryMode(srv *simServer) string {
	if calendarVersion(srv.version) {
		return "V2_ONLY"
	}
	if srv.discovery != "" {
		return srv.discovery
	}
	if v := strings.ToUpper(strings.TrimSpace(s.startupValue(srv, "dbms.cluster.discovery.version"))); v != "" {
		return v
	}
	return "V1_ONLY"
}

// runsV1 and runsV2 say which services a mode runs.
func runsV1(mode string) bool { return mode != "V2_ONLY" }
func runsV2(mode string) bool { return mode != "V1_ONLY" }

// discoveryServers are the servers taking part in discovery: up, not
// dropped.
func (s *Simulator) discoveryServers() []*simServer {
	var out []*simServer
	for _, srv := range s.servers {
		if srv.available && srv.state != StateDropped {
			out = append(out, srv)
		}
	}
	return out
}

// lifecycleCall answers the discovery procedures and
// dbms.security.reloadTLS; handled is false for any other procedure.
func (s *Simulator) lifecycleCall(srv *simServer, c *command, name string) (res *result, err *cypherError, handled bool) {
	switch name {
	case "dbms.security.reloadtls":
		// fact: procedure/dbms.security.reloadtls
		if s.community || !versionAtLeast(srv.version, 2025, 3) {
			return nil, procedureNotFound(c.proc), true
		}
		return &result{}, nil, true
	case "dbms.cluster.showparalleldiscoverystate", "dbms.cluster.movetonextdiscoveryversion":
	default:
		return nil, nil, false
	}
	if calendarVersion(srv.version) {
		// fact: discovery.removed-2025
		return nil, procedureNotFound(c.proc), true
	}
	switch name {
	case "dbms.cluster.showparalleldiscoverystate":
		return s.parallelDiscoveryState(srv, c), nil, true
	case "dbms.cluster.movetonextdiscoveryversion":
		return &result{}, s.moveToNextDiscoveryVersion(c.proc), true
	}
	return nil, nil, false
}

var discoveryStateColumns = []string{"mode", "stateComparison", "v1ServerCount", "v2ServerCount"}

// parallelDiscoveryState is srv's row (fact: procedure/dbms.cluster.showparalleldiscoverystate):
// its mode; how many servers its v1 and v2 services find ("N/A" for a
// service it does not run); "Matching" when it runs both and every server
// does, "N/A" when it runs one, otherwise not matching with a score that
// stays high while some servers run one service only.
func (s *Simulator) parallelDiscoveryState(srv *simServer, c *command) *result {
	mode := s.discoveryMode(srv)
	v1, v2, both := 0, 0, 0
	servers := s.discoveryServers()
	for _, o := range servers {
		m := s.discoveryMode(o)
		if runsV1(m) {
			v1++
		}
		if runsV2(m) {
			v2++
		}
		if runsV1(m) && runsV2(m) {
			both++
		}
	}
	row := map[string]any{"mode": mode, "stateComparison": "N/A", "v1ServerCount": "N/A", "v2ServerCount": "N/A"}
	if runsV1(mode) {
		row["v1ServerCount"] = strconv.Itoa(v1)
	}
	if runsV2(mode) {
		row["v2ServerCount"] = strconv.Itoa(v2)
	}
	if runsV1(mode) && runsV2(mode) {
		if both == len(servers) {
			row["stateComparison"] = "Matching"
		} else {
			row["stateComparison"] = fmt.Sprintf("States are not matching after PT1M: (score:%d)", 9*(len(servers)-both))
		}
	}
	res, _ := project(c, discoveryStateColumns, discoveryStateColumns, []map[string]any{row})
	return res
}

// moveToNextDiscoveryVersion moves every server one mode on
// (fact: procedure/dbms.cluster.movetonextdiscoveryversion). It fails
// when the servers run different modes, when they already run V2_ONLY,
// and, leaving V1_ONLY, when a server lacks the v2 setting of its
// resolver (fact: discovery.preparation).
func (s *Simulator) moveToNextDiscoveryVersion(proc string) *cypherError {
	servers := s.discoveryServers()
	modes := map[string]bool{}
	for _, srv := range servers {
		modes[s.discoveryMode(srv)] = true
	}
	if len(modes) != 1 {
		return procedureCallFailed(proc, "The servers run inconsistent discovery versions; switch each server with dbms.cluster.switchDiscoveryServiceVersion.")
	}
	var mode string
	for m := range modes {
		mode = m
	}
	i := slices.Index(discoveryModes, mode)
	if i < 0 || i == len(discoveryModes)-1 {
		return procedureCallFailed(proc, "There is no discovery version after "+mode+".")
	}
	if mode == "V1_ONLY" {
		for _, srv := range servers {
			key := "dbms.cluster.discovery.v2.endpoints"
			if r := strings.ToUpper(s.startupValue(srv, "dbms.cluster.discovery.resolver_type")); r == "K8S" {
				key = "dbms.kubernetes.discovery.v2.service_port_name"
			}
			if strings.TrimSpace(s.startupValue(srv, key)) == "" {
				return procedureCallFailed(proc, fmt.Sprintf("Server %s cannot start discovery service V2: %s is not set.", srv.name, key))
			}
		}
	}
	for _, srv := range servers {
		srv.discovery = discoveryModes[i+1]
	}
	return nil
}
