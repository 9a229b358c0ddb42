package healthcheck

import (
	"strings"
	"testing"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

func rollInput() RollInput {
	in := healthy()
	return RollInput{Servers: in.Neo4j.Servers, Databases: in.Neo4j.Databases, StatusCheck: in.StatusCheck}
}

// TestRollGate: the gate between two Pods of a rolling restart. The
// previous server must be back (ServerBack) and the cluster able to lose
// the next one (CanLose); each case breaks one thing.
func TestRollGate(t *testing.T) {
	const prev, next = "id-prod-2", "id-prod-1"
	setServer := func(in *RollInput, id string, f func(*state.Server)) {
		s := in.Servers[id]
		f(&s)
		in.Servers[id] = s
	}
	for _, tc := range []struct {
		name     string
		edit     func(*RollInput)
		notBack  string // a reason ServerBack must give; "" = back
		cannot   string // a reason CanLose must give; "" = can lose
		wantNote string
	}{
		{name: "healthy"},
		{name: "previous Unavailable", notBack: "Enabled, Unavailable", cannot: "server server-prod-2 is Unavailable",
			edit: func(in *RollInput) { setServer(in, prev, func(s *state.Server) { s.Health = state.HealthUnavailable }) }},
		{name: "previous Cordoned", notBack: "Cordoned, Available",
			edit: func(in *RollInput) { setServer(in, prev, func(s *state.Server) { s.State = state.ServerCordoned }) }},
		{name: "previous still catching up", notBack: "not yet hosting movies",
			edit: func(in *RollInput) {
				setServer(in, prev, func(s *state.Server) {
					s.RequestedHosting, s.Hosting = []string{"movies", "system"}, []string{"system"}
				})
			}},
		{name: "a database on the previous one still starting", notBack: "movies starting (requested online)",
			cannot: "movies would keep 1 of 3 primaries online",
			edit: func(in *RollInput) {
				for i, a := range in.Databases {
					if a.ServerID == prev && a.Name == "movies" {
						in.Databases[i].CurrentStatus = "starting"
					}
				}
			}},
		{name: "previous cannot replicate", notBack: "movies cannot replicate (UNAVAILABLE)",
			edit: func(in *RollInput) {
				for i, r := range in.StatusCheck {
					if r.ServerID == prev && r.Database == "movies" {
						in.StatusCheck[i].ReplicationSuccessful, in.StatusCheck[i].MemberStatus = false, "UNAVAILABLE"
					}
				}
			}},
		{name: "previous still starting its database: REPLICATING, not yet applying", notBack: "movies cannot replicate (REPLICATING)",
			edit: func(in *RollInput) {
				for i, r := range in.StatusCheck {
					if r.ServerID == prev && r.Database == "movies" {
						in.StatusCheck[i].MemberStatus = "REPLICATING" // replicationSuccessful stays true: it is the requester's
					}
				}
			}},
		{name: "previous missing", notBack: "not in SHOW SERVERS", cannot: "movies would keep 1 of 3 primaries online",
			edit: func(in *RollInput) { delete(in.Servers, prev) }},
		// The case the issue names: a server Unavailable to the cluster
		// while its Pod is Ready in Kubernetes stops the roll.
		{name: "another server Unavailable, Pod Ready", cannot: "server server-prod-0 is Unavailable",
			edit: func(in *RollInput) {
				setServer(in, "id-prod-0", func(s *state.Server) { s.Health = state.HealthUnavailable })
			}},
		{name: "next already away: nothing more to lose",
			edit: func(in *RollInput) { setServer(in, next, func(s *state.Server) { s.Health = state.HealthUnavailable }) }},
		{name: "another primary of movies offline", cannot: "movies would keep 1 of 3 primaries online, not a majority",
			edit: func(in *RollInput) {
				for i, a := range in.Databases {
					if a.ServerID == "id-prod-0" && a.Name == "movies" {
						in.Databases[i].CurrentStatus = "offline"
					}
				}
			}},
		{name: "a stopped database holds nothing",
			edit: func(in *RollInput) {
				for i, a := range in.Databases {
					if a.Name == "movies" {
						in.Databases[i].RequestedStatus, in.Databases[i].CurrentStatus = "offline", "offline"
					}
				}
				var sc []state.StatusCheck
				for _, r := range in.StatusCheck {
					if r.Database != "movies" {
						sc = append(sc, r)
					}
				}
				in.StatusCheck = sc
			}},
		{name: "group size from statusCheck when a primary's row says unknown", cannot: "system would keep 1 of 3 primaries online",
			edit: func(in *RollInput) {
				for i, a := range in.Databases {
					if a.ServerID == "id-prod-0" && a.Name == "system" {
						in.Databases[i].Role, in.Databases[i].CurrentStatus = "unknown", "unknown"
					}
				}
			}},
		{name: "a one-primary database cannot be kept writable: a note, not a hold", wantNote: "solo has 1 primary",
			edit: func(in *RollInput) {
				in.Databases = append(in.Databases, state.DatabaseAllocation{Name: "solo", ServerID: next, Role: "primary",
					RequestedStatus: "online", CurrentStatus: "online", RequestedPrimaries: 1, CurrentPrimaries: 1})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := rollInput()
			if tc.edit != nil {
				tc.edit(&in)
			}
			back := ServerBack(in, prev)
			switch {
			case tc.notBack == "" && len(back) > 0:
				t.Errorf("ServerBack: %q, want back", back)
			case tc.notBack != "" && !strings.Contains(strings.Join(back, "; "), tc.notBack):
				t.Errorf("ServerBack: %q, want a reason containing %q", back, tc.notBack)
			}
			why, notes := CanLose(in, next)
			switch {
			case tc.cannot == "" && len(why) > 0:
				t.Errorf("CanLose: %q, want it can lose %s", why, next)
			case tc.cannot != "" && !strings.Contains(strings.Join(why, "; "), tc.cannot):
				t.Errorf("CanLose: %q, want a reason containing %q", why, tc.cannot)
			}
			if got := strings.Join(notes, "; "); tc.wantNote != "" && !strings.Contains(got, tc.wantNote) || tc.wantNote == "" && got != "" {
				t.Errorf("CanLose notes: %q, want %q", got, tc.wantNote)
			}
		})
	}
}

// TestMemberFit: only the memberStatus the Operations Manual calls able to
// replicate and apply (clustering/monitoring/status-check § Possible values
// of memberStatus) is fit; a value it does not document — a Raft role such
// as the simulator once answered — is not taken as healthy.
func TestMemberFit(t *testing.T) {
	for status, want := range map[string]bool{
		"APPLYING": true, "REPLICATING": false, "UNAVAILABLE": false,
		"LEADER": false, "FOLLOWER": false, "": false,
	} {
		if got := MemberFit(state.StatusCheck{MemberStatus: status, ReplicationSuccessful: true}); got != want {
			t.Errorf("MemberFit(%q) = %v, want %v", status, got, want)
		}
	}
}
