package neo4j

import (
	"testing"
	"time"
)

func TestStatements(t *testing.T) {
	restoreAt := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		build   func() (string, error)
		want    string
		wantErr bool
	}{
		{
			name:  "enable server without options",
			build: func() (string, error) { return EnableServerStatement("id-1", ServerOptions{}) },
			want:  "ENABLE SERVER 'id-1'",
		},
		{
			name: "enable server with every option",
			build: func() (string, error) {
				return EnableServerStatement("id-1", ServerOptions{
					ModeConstraint: "primary", AllowedDatabases: []string{"neo4j", "sales"}, Tags: []string{"eu-west", "ssd"},
				})
			},
			want: "ENABLE SERVER 'id-1' OPTIONS {allowedDatabases: ['neo4j', 'sales'], modeConstraint: 'PRIMARY', tags: ['eu-west', 'ssd']}",
		},
		{
			name: "enable server denied databases",
			build: func() (string, error) {
				return EnableServerStatement("id-1", ServerOptions{DeniedDatabases: []string{"big"}})
			},
			want: "ENABLE SERVER 'id-1' OPTIONS {deniedDatabases: ['big']}",
		},
		{
			name: "enable server allowed and denied",
			build: func() (string, error) {
				return EnableServerStatement("id-1", ServerOptions{AllowedDatabases: []string{"a12"}, DeniedDatabases: []string{"b12"}})
			},
			wantErr: true,
		},
		{
			name:    "enable server bad mode",
			build:   func() (string, error) { return EnableServerStatement("id-1", ServerOptions{ModeConstraint: "LEADER"}) },
			wantErr: true,
		},
		{
			name: "enable server bad database name",
			build: func() (string, error) {
				return EnableServerStatement("id-1", ServerOptions{AllowedDatabases: []string{"a'b"}})
			},
			wantErr: true,
		},
		{
			name:    "enable server empty id",
			build:   func() (string, error) { return EnableServerStatement("", ServerOptions{}) },
			wantErr: true,
		},
		{
			name:  "alter server full set defaults mode",
			build: func() (string, error) { return AlterServerOptionsStatement("server-2", ServerOptions{}) },
			want:  "ALTER SERVER 'server-2' SET OPTIONS {modeConstraint: 'NONE'}",
		},
		{
			name: "alter server clears tags",
			build: func() (string, error) {
				return AlterServerOptionsStatement("server-2", ServerOptions{ModeConstraint: ModeSecondary, Tags: []string{}})
			},
			want: "ALTER SERVER 'server-2' SET OPTIONS {modeConstraint: 'SECONDARY', tags: []}",
		},
		{
			name:  "rename server",
			build: func() (string, error) { return RenameServerStatement("8f3c", "neo4j-0") },
			want:  "RENAME SERVER '8f3c' TO 'neo4j-0'",
		},
		{
			name:  "cordon server",
			build: func() (string, error) { return CordonServerStatement("id-1") },
			want:  "CALL dbms.cluster.cordonServer('id-1')",
		},
		{
			name:  "deallocate one",
			build: func() (string, error) { return DeallocateServersStatement(false, "id-1") },
			want:  "DEALLOCATE DATABASES FROM SERVER 'id-1'",
		},
		{
			name:  "deallocate dry run several",
			build: func() (string, error) { return DeallocateServersStatement(true, "id-2", "id-1") },
			want:  "DRYRUN DEALLOCATE DATABASES FROM SERVERS 'id-2', 'id-1'",
		},
		{
			name:    "deallocate nothing",
			build:   func() (string, error) { return DeallocateServersStatement(false) },
			wantErr: true,
		},
		{
			name:  "reallocate",
			build: func() (string, error) { return ReallocateDatabasesStatement(false), nil },
			want:  "REALLOCATE DATABASES",
		},
		{
			name:  "reallocate dry run",
			build: func() (string, error) { return ReallocateDatabasesStatement(true), nil },
			want:  "DRYRUN REALLOCATE DATABASES",
		},
		{
			name:  "drop server",
			build: func() (string, error) { return DropServerStatement("id-1") },
			want:  "DROP SERVER 'id-1'",
		},
		{
			name:  "status check",
			build: func() (string, error) { return StatusCheckStatement([]string{"neo4j", "system"}, 2*time.Second) },
			want:  "CALL dbms.cluster.statusCheck(['neo4j', 'system'], 2000)",
		},
		{
			name:  "status check all databases default timeout",
			build: func() (string, error) { return StatusCheckStatement(nil, 0) },
			want:  "CALL dbms.cluster.statusCheck([], 1000)",
		},
		{
			name: "create database canonical",
			build: func() (string, error) {
				return CreateDatabaseStatement("x12", CreateDatabase{IfNotExists: true, Topology: Topology{Primaries: 3}})
			},
			want: "CREATE DATABASE `x12` IF NOT EXISTS TOPOLOGY 3 PRIMARIES 0 SECONDARIES",
		},
		{
			name:  "create database bare",
			build: func() (string, error) { return CreateDatabaseStatement("sales", CreateDatabase{}) },
			want:  "CREATE DATABASE `sales`",
		},
		{
			name: "create database seeded with wait",
			build: func() (string, error) {
				return CreateDatabaseStatement("sales", CreateDatabase{
					OrReplace: true,
					Topology:  Topology{Primaries: 1, Secondaries: 2},
					Options:   DatabaseOptions{ExistingData: "use", SeedURI: "s3://bucket/sales.backup", SeedRestoreUntil: restoreAt},
					Wait:      WaitFor(90 * time.Second),
				})
			},
			want: "CREATE OR REPLACE DATABASE `sales` TOPOLOGY 1 PRIMARIES 2 SECONDARIES OPTIONS {existingData: 'use', seedRestoreUntil: datetime('2025-06-01T12:00:00Z'), seedURI: 's3://bucket/sales.backup'} WAIT 90 SECONDS",
		},
		{
			name: "create database seed until tx nowait",
			build: func() (string, error) {
				return CreateDatabaseStatement("sales", CreateDatabase{
					Options: DatabaseOptions{ExistingData: "use", SeedURI: "file:/b", SeedRestoreUntilTxID: 123, StoreFormat: "block"},
					Wait:    Wait{Mode: NoWait},
				})
			},
			want: "CREATE DATABASE `sales` OPTIONS {existingData: 'use', seedRestoreUntil: 123, seedURI: 'file:/b', storeFormat: 'block'} NOWAIT",
		},
		{
			name: "create database wait default",
			build: func() (string, error) {
				return CreateDatabaseStatement("sales", CreateDatabase{Wait: Wait{Mode: WaitDefault}})
			},
			want: "CREATE DATABASE `sales` WAIT",
		},
		{
			name: "create database both restore points",
			build: func() (string, error) {
				return CreateDatabaseStatement("sales", CreateDatabase{Options: DatabaseOptions{SeedRestoreUntil: restoreAt, SeedRestoreUntilTxID: 1}})
			},
			wantErr: true,
		},
		{
			name: "create database if not exists or replace",
			build: func() (string, error) {
				return CreateDatabaseStatement("sales", CreateDatabase{IfNotExists: true, OrReplace: true})
			},
			wantErr: true,
		},
		{
			name:    "create system",
			build:   func() (string, error) { return CreateDatabaseStatement("system", CreateDatabase{}) },
			wantErr: true,
		},
		{
			name:    "create invalid name",
			build:   func() (string, error) { return CreateDatabaseStatement("a` RETURN 1", CreateDatabase{}) },
			wantErr: true,
		},
		{
			name: "create secondaries without primaries",
			build: func() (string, error) {
				return CreateDatabaseStatement("sales", CreateDatabase{Topology: Topology{Secondaries: 1}})
			},
			wantErr: true,
		},
		{
			name: "bad wait",
			build: func() (string, error) {
				return CreateDatabaseStatement("sales", CreateDatabase{Wait: Wait{Mode: WaitSeconds}})
			},
			wantErr: true,
		},
		{
			name: "alter topology",
			build: func() (string, error) {
				return AlterDatabaseTopologyStatement("neo4j", Topology{Primaries: 3, Secondaries: 1})
			},
			want: "ALTER DATABASE `neo4j` SET TOPOLOGY 3 PRIMARIES 1 SECONDARIES",
		},
		{
			name:    "alter topology no primaries",
			build:   func() (string, error) { return AlterDatabaseTopologyStatement("neo4j", Topology{}) },
			wantErr: true,
		},
		{
			name:  "alter access read only",
			build: func() (string, error) { return AlterDatabaseAccessStatement("neo4j", true) },
			want:  "ALTER DATABASE `neo4j` SET ACCESS READ ONLY",
		},
		{
			name:  "alter access read write",
			build: func() (string, error) { return AlterDatabaseAccessStatement("main-db", false) },
			want:  "ALTER DATABASE `main-db` SET ACCESS READ WRITE",
		},
		{
			name:  "drop database destroy",
			build: func() (string, error) { return DropDatabaseStatement("sales", DropDatabase{IfExists: true}) },
			want:  "DROP DATABASE `sales` IF EXISTS DESTROY DATA",
		},
		{
			name: "drop database dump wait",
			build: func() (string, error) {
				return DropDatabaseStatement("sales", DropDatabase{DumpData: true, Wait: Wait{Mode: WaitSeconds, Seconds: 30}})
			},
			want: "DROP DATABASE `sales` DUMP DATA WAIT 30 SECONDS",
		},
		{
			name:    "drop system",
			build:   func() (string, error) { return DropDatabaseStatement("system", DropDatabase{}) },
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.build()
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestWaitFor(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want Wait
	}{
		{name: "whole", in: 30 * time.Second, want: Wait{Mode: WaitSeconds, Seconds: 30}},
		{name: "rounds up", in: 1500 * time.Millisecond, want: Wait{Mode: WaitSeconds, Seconds: 2}},
		{name: "zero is one second", in: 0, want: Wait{Mode: WaitSeconds, Seconds: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WaitFor(tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
