package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/neo4j"
	"github.com/neo4jctl/neo4jctl/internal/state"
	"github.com/neo4jctl/neo4jctl/plan"
)

// discoveryClient runs the discovery procedures on one server;
// *neo4j.Client has it. Asked for by assertion, as configSetter is.
type discoveryClient interface {
	DiscoveryState(ctx context.Context, address string) (neo4j.DiscoveryState, error)
	MoveToNextDiscoveryVersion(ctx context.Context, address string) error
}

var _ discoveryClient = (*neo4j.Client)(nil)

// discoveryStates reads CALL dbms.cluster.showParallelDiscoveryState() on
// every Enabled or Cordoned server (the mode is each server's own), keyed
// by server name, with the addresses in name order.
func (e *Executor) discoveryStates(ctx context.Context) (map[string]neo4j.DiscoveryState, []string, error) {
	servers, err := e.readServers(ctx)
	if err != nil {
		return nil, nil, err
	}
	var srvs []state.Server
	for _, s := range servers {
		if (s.State == state.ServerEnabled || s.State == state.ServerCordoned) && s.Address != "" {
			srvs = append(srvs, s)
		}
	}
	sort.Slice(srvs, func(i, j int) bool { return srvs[i].Name < srvs[j].Name })
	out := map[string]neo4j.DiscoveryState{}
	var addrs []string
	for _, s := range srvs {
		var st neo4j.DiscoveryState
		err := e.read(ctx, neo4j.DiscoveryStateStatement, func(ctx context.Context, c Neo4j) error {
			dc, ok := c.(discoveryClient)
			if !ok {
				return errors.New("this Neo4j connection cannot run a procedure on one server")
			}
			var err error
			st, err = dc.DiscoveryState(ctx, s.Address)
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("%s on %s: %w", neo4j.DiscoveryStateStatement, s.Name, err)
		}
		out[s.Name] = st
		addrs = append(addrs, s.Address)
	}
	if len(out) == 0 {
		return nil, nil, errors.New("no Enabled server to ask")
	}
	return out, addrs, nil
}

// modeIndex orders the discovery modes (-1 for anything else).
func modeIndex(m string) int { return slices.Index(plan.DiscoveryModes, m) }

// describeStates is the servers' states, in name order, for messages.
func describeStates(states map[string]neo4j.DiscoveryState) string {
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		st := states[n]
		parts = append(parts, fmt.Sprintf("%s %s %s (v1 %s, v2 %s)", n, st.Mode, st.StateComparison, st.V1ServerCount, st.V2ServerCount))
	}
	return strings.Join(parts, "; ")
}

// discoveryMove is one move of the manual's procedure for moving an entire
// cluster (plan.KindDiscoveryMove): if every server still reports the
// step's From mode, CALL dbms.cluster.moveToNextDiscoveryVersion() once,
// on the first server; if every server reports To or a later mode already
// (a rerun after an interrupted apply), no call. Then, as the manual says ("If they are
// not, wait and try again till matching"), wait until every server
// reports To with stateComparison Matching (N/A for V2_ONLY). Servers in
// other modes stop the step: the procedure is not for them.
func (e *Executor) discoveryMove(ctx context.Context, s plan.Step) (outcome, error) {
	if s.Discovery == nil || modeIndex(s.Discovery.To) < 1 {
		return outcome{}, errors.New("the step names no discovery mode")
	}
	if _, err := e.connectRetrying(ctx); err != nil {
		return outcome{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	states, addrs, err := e.discoveryStates(ctx)
	if err != nil {
		return outcome{}, err
	}
	from, to := modeIndex(s.Discovery.To)-1, modeIndex(s.Discovery.To)
	atFrom, atTo := true, true
	for _, st := range states {
		atFrom = atFrom && modeIndex(st.Mode) == from
		atTo = atTo && modeIndex(st.Mode) >= to
	}
	o := outcome{unchanged: true}
	switch {
	case atTo:
		o.note = "every server already runs " + s.Discovery.To + " or later"
	case atFrom:
		c, err := e.neo4jConn(ctx)
		if err != nil {
			return outcome{}, err
		}
		dc, ok := c.(discoveryClient)
		if !ok {
			return outcome{}, errors.New("this Neo4j connection cannot run a procedure on one server")
		}
		// Sent once, never retried: a second call would move one mode
		// further. On an error, the wait below reads what happened.
		if err := dc.MoveToNextDiscoveryVersion(ctx, addrs[0]); err != nil {
			return outcome{}, fmt.Errorf("%s (%s → %s): %w; servers: %s", neo4j.MoveDiscoveryStatement, plan.DiscoveryModes[from], s.Discovery.To, err, describeStates(states))
		}
		o = outcome{wrote: true}
	default:
		return outcome{}, fmt.Errorf("the servers are not all in %s nor all in %s (%s): bring them to one mode with the manual's \"Per server procedure\" (clustering/setup/discovery.adoc, CALL dbms.cluster.switchDiscoveryServiceVersion on each server), then run apply again",
			plan.DiscoveryModes[from], s.Discovery.To, describeStates(states))
	}
	wantCmp := "Matching"
	if s.Discovery.To == "V2_ONLY" {
		wantCmp = "N/A"
	}
	err = e.poll(ctx, s, fmt.Sprintf("every server in discovery mode %s with stateComparison %s", s.Discovery.To, wantCmp), func(ctx context.Context) (bool, string, error) {
		states, _, err := e.discoveryStates(ctx)
		if err != nil {
			return false, "", err
		}
		for _, st := range states {
			// A server past To (a rerun) has nothing to wait for here.
			if i := modeIndex(st.Mode); i < to || i == to && st.StateComparison != wantCmp {
				return false, describeStates(states), nil
			}
		}
		return true, "", nil
	})
	if err != nil {
		return outcome{}, fmt.Errorf("%w; no server was restarted: run apply again to continue the move", err)
	}
	if o.note == "" {
		o.note = "every server runs " + s.Discovery.To
	}
	return o, nil
}

// discoveryVerify checks, after a roll, that every server runs V2_ONLY
// (plan.KindDiscoveryVerify): the restarted servers took the rendered
// setting, so the move outlives the next restart. A server that does not
// answer yet (just restarted, its connection being made again) is waited
// for up to the step timeout; a server that answers with another mode
// stops the apply at once: it started with that mode and keeps it.
func (e *Executor) discoveryVerify(ctx context.Context, s plan.Step) (outcome, error) {
	if s.Discovery == nil {
		return outcome{}, errors.New("the step names no discovery mode")
	}
	if _, err := e.connectRetrying(ctx); err != nil {
		return outcome{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.Options.StepTimeout)
	defer cancel()
	var states map[string]neo4j.DiscoveryState
	err := e.poll(ctx, s, "every server answering CALL dbms.cluster.showParallelDiscoveryState()", func(ctx context.Context) (bool, string, error) {
		st, _, err := e.discoveryStates(ctx)
		if err != nil {
			return false, "", err
		}
		states = st
		return true, "", nil
	})
	if err != nil {
		return outcome{}, err
	}
	for _, st := range states {
		if st.Mode != s.Discovery.To {
			return outcome{}, fmt.Errorf("after the roll not every server runs discovery %s (%s): check the rendered dbms.cluster.discovery.version reached them", s.Discovery.To, describeStates(states))
		}
	}
	return outcome{unchanged: true, note: "every server runs discovery " + s.Discovery.To}, nil
}
