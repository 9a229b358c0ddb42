package neo4j

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/internal/state"
)

func TestServersFromRows(t *testing.T) {
	tests := []struct {
		name string
		rows []row
		want map[string]state.Server
	}{
		{
			name: "full row with unsorted lists",
			rows: []row{{
				"serverId": "id-1", "name": "neo4j-0", "address": "neo4j-0:7687", "httpAddress": "neo4j-0:7474",
				"httpsAddress": nil, "state": "Enabled", "health": "Available",
				"hosting": []any{"system", "neo4j"}, "requestedHosting": []any{"system", "neo4j"},
				"tags": []any{"b", "a"}, "allowedDatabases": []any{}, "deniedDatabases": nil,
				"modeConstraint": "NONE", "version": "5.26.0",
			}},
			want: map[string]state.Server{"id-1": {
				ID: "id-1", Name: "neo4j-0", Address: "neo4j-0:7687", HTTPAddress: "neo4j-0:7474",
				State: "Enabled", Health: "Available",
				Hosting: []string{"neo4j", "system"}, RequestedHosting: []string{"neo4j", "system"},
				Tags: []string{"a", "b"}, AllowedDatabases: []string{}, ModeConstraint: "NONE", Version: "5.26.0",
			}},
		},
		{
			name: "nulls and missing columns (deallocating, older version)",
			rows: []row{{"serverId": "id-2", "name": "id-2", "address": nil, "state": "Deallocating"}},
			want: map[string]state.Server{"id-2": {ID: "id-2", Name: "id-2", State: "Deallocating"}},
		},
		{
			name: "row without serverId is skipped",
			rows: []row{{"name": "ghost"}, {"serverId": nil}},
			want: map[string]state.Server{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, serversFromRows(tt.rows)); diff != "" {
				t.Errorf("servers (-want +got):\n%s", diff)
			}
		})
	}
}

// lag is a replicationLag as read: SHOW DATABASES' NULL is nil, a lag of
// -7 (listing-databases.adoc: negative integers) or 7 reads 7.
func lag(n int64) *int64 { return &n }

func TestDatabasesFromRows(t *testing.T) {
	rows := []row{
		{"name": "system", "type": "system", "aliases": []any{}, "access": "read-write", "address": "b:7687",
			"role": "primary", "writer": false, "requestedStatus": "online", "currentStatus": "online",
			"statusMessage": "", "default": false, "home": false, "serverID": "id-2",
			"currentPrimariesCount": int64(3), "requestedPrimariesCount": int64(3), "replicationLag": int64(-7)},
		{"name": "neo4j", "type": "standard", "access": "read-write", "writer": true, "currentStatus": "online",
			"default": true, "home": true, "serverID": "id-1", "databaseID": "db-1",
			"currentPrimariesCount": int64(1), "currentSecondariesCount": nil, "requestedSecondariesCount": 2,
			"options": map[string]any{"txLogEnrichment": "FULL"}, "replicationLag": int64(0)},
		{"name": "system", "serverID": "id-1", "writer": true, "replicationLag": nil},
	}
	want := []state.DatabaseAllocation{
		{Name: "neo4j", Type: "standard", Access: "read-write", Writer: true, CurrentStatus: "online",
			Default: true, Home: true, ServerID: "id-1", DatabaseID: "db-1", CurrentPrimaries: 1,
			RequestedSecondaries: 2, Options: map[string]any{"txLogEnrichment": "FULL"}, ReplicationLag: lag(0)},
		{Name: "system", ServerID: "id-1", Writer: true},
		{Name: "system", Type: "system", Aliases: []string{}, Access: "read-write", Address: "b:7687",
			Role: "primary", RequestedStatus: "online", CurrentStatus: "online", ServerID: "id-2",
			CurrentPrimaries: 3, RequestedPrimaries: 3, ReplicationLag: lag(7)},
	}
	if diff := cmp.Diff(want, databasesFromRows(rows)); diff != "" {
		t.Errorf("databases (-want +got):\n%s", diff)
	}
}

func TestSettingsFromRows(t *testing.T) {
	tests := []struct {
		name string
		rows []row
		want map[string]state.Setting
	}{
		{
			name: "SHOW SETTINGS",
			rows: []row{{"name": "server.backup.enabled", "value": "true", "isDynamic": false, "defaultValue": "true"},
				{"name": "db.logs.query.enabled", "value": "VERBOSE", "isDynamic": true, "defaultValue": nil}},
			want: map[string]state.Setting{
				"server.backup.enabled": {Name: "server.backup.enabled", Value: "true", Default: "true"},
				"db.logs.query.enabled": {Name: "db.logs.query.enabled", Value: "VERBOSE", Dynamic: true},
			},
		},
		{
			name: "dbms.listConfig",
			rows: []row{{"name": "server.bolt.listen_address", "description": "d", "value": ":7687", "dynamic": true}},
			want: map[string]state.Setting{
				"server.bolt.listen_address": {Name: "server.bolt.listen_address", Value: ":7687", Dynamic: true},
			},
		},
		{
			name: "non-string value",
			rows: []row{{"name": "x", "value": int64(5)}, {"value": "nameless"}},
			want: map[string]state.Setting{"x": {Name: "x", Value: "5"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, settingsFromRows(tt.rows)); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusChecksAndReallocationsFromRows(t *testing.T) {
	checks := statusChecksFromRows([]row{
		{"database": "neo4j", "serverId": "id-2", "serverName": "n2", "address": "b:7687", "replicationSuccessful": true,
			"memberStatus": "APPLYING", "recognisedLeader": "id-1", "recognisedLeaderTerm": int64(4), "error": nil},
		{"database": "neo4j", "serverId": "id-1", "memberStatus": "REPLICATING", "recognisedLeaderTerm": 4},
	})
	wantChecks := []state.StatusCheck{
		{Database: "neo4j", ServerID: "id-1", MemberStatus: "REPLICATING", RecognisedLeaderTerm: 4},
		{Database: "neo4j", ServerID: "id-2", ServerName: "n2", Address: "b:7687", ReplicationSuccessful: true,
			MemberStatus: "APPLYING", RecognisedLeader: "id-1", RecognisedLeaderTerm: 4},
	}
	if diff := cmp.Diff(wantChecks, checks); diff != "" {
		t.Errorf("status checks (-want +got):\n%s", diff)
	}

	moves := reallocationsFromRows([]row{{
		"database": "neo4j", "fromServerName": "n3", "fromServerId": "id-3",
		"toServerName": "n1", "toServerId": "id-1", "mode": "primary",
	}})
	wantMoves := []Reallocation{{Database: "neo4j", FromServerName: "n3", FromServerID: "id-3", ToServerName: "n1", ToServerID: "id-1", Mode: "primary"}}
	if diff := cmp.Diff(wantMoves, moves); diff != "" {
		t.Errorf("reallocations (-want +got):\n%s", diff)
	}
}
