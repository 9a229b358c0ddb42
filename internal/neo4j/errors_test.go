package neo4j

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

func TestClassify(t *testing.T) {
	neo := func(code, gql, msg string) error {
		return &driver.Neo4jError{Code: code, GqlStatus: gql, Msg: msg}
	}
	tests := []struct {
		name string
		err  error
		want Error // Op and Err are not compared
	}{
		{
			name: "wrong password",
			err:  neo(CodeUnauthorized, "42NFF", "The client is unauthorized due to authentication failure."),
			want: Error{Kind: KindAuth, Code: CodeUnauthorized, GQLStatus: "42NFF", Message: "The client is unauthorized due to authentication failure."},
		},
		{
			name: "missing privilege",
			err:  neo("Neo.ClientError.Security.Forbidden", "", "Permission denied."),
			want: Error{Kind: KindAuth, Code: "Neo.ClientError.Security.Forbidden", Message: "Permission denied."},
		},
		{
			name: "token expired",
			err:  &driver.TokenExpiredError{Code: "Neo.ClientError.Security.TokenExpired", Message: "expired"},
			want: Error{Kind: KindAuth, Code: "Neo.ClientError.Security.TokenExpired", Message: "expired"},
		},
		{
			name: "authorization expired is retried",
			err:  neo(CodeAuthorizationExpired, "", "expired"),
			want: Error{Kind: KindTransient, Code: CodeAuthorizationExpired, Message: "expired"},
		},
		{
			name: "not a leader",
			err:  neo(CodeNotALeader, "", "No write operations are allowed on this database."),
			want: Error{Kind: KindNotLeader, Code: CodeNotALeader, Message: "No write operations are allowed on this database."},
		},
		{
			name: "read only member",
			err:  neo(CodeForbiddenOnReadOnly, "", "read only"),
			want: Error{Kind: KindNotLeader, Code: CodeForbiddenOnReadOnly, Message: "read only"},
		},
		{
			name: "community edition",
			err:  neo(CodeUnsupportedAdminCmd, "", "Unsupported administration command: SHOW SERVERS"),
			want: Error{Kind: KindEnterpriseRequired, Code: CodeUnsupportedAdminCmd, Message: "Unsupported administration command: SHOW SERVERS"},
		},
		{
			name: "community edition by GQL status",
			err:  neo("Neo.ClientError.Statement.NotSupported", "51N27", "not supported in this edition"),
			want: Error{Kind: KindEnterpriseRequired, Code: "Neo.ClientError.Statement.NotSupported", GQLStatus: "51N27", Message: "not supported in this edition"},
		},
		{
			name: "refused admin operation",
			err:  neo("Neo.ClientError.Cluster.ServerNotFound", "51N41", "Server or database admin operation not possible."),
			want: Error{Kind: KindRefused, Code: "Neo.ClientError.Cluster.ServerNotFound", GQLStatus: "51N41", Message: "Server or database admin operation not possible."},
		},
		{
			// Real Community 5.26's answer to SHOW SERVERS, even on system.
			name: "community show servers",
			err:  neo(CodeNotSystemDatabase, "50N42", "Unsupported administration command: SHOW SERVERS YIELD *"),
			want: Error{Kind: KindEnterpriseRequired, Code: CodeNotSystemDatabase, Message: "Unsupported administration command: SHOW SERVERS YIELD *"},
		},
		{
			name: "admin command on a user database",
			err:  neo(CodeNotSystemDatabase, "", "This is an administration command and it should be executed against the system database: CREATE DATABASE"),
			want: Error{Kind: KindRefused, Code: CodeNotSystemDatabase, Message: "This is an administration command and it should be executed against the system database: CREATE DATABASE"},
		},
		{
			name: "community cluster procedure",
			err:  neo(CodeProcedureNotFound, "42001", "There is no procedure with the name `dbms.cluster.cordonServer` registered for this database instance."),
			want: Error{Kind: KindEnterpriseRequired, Code: CodeProcedureNotFound, GQLStatus: "42001", Message: "There is no procedure with the name `dbms.cluster.cordonServer` registered for this database instance."},
		},
		{
			name: "other missing procedure",
			err:  neo(CodeProcedureNotFound, "42001", "There is no procedure with the name `dbms.clusterx.foo` registered for this database instance."),
			want: Error{Kind: KindRefused, Code: CodeProcedureNotFound, GQLStatus: "42001", Message: "There is no procedure with the name `dbms.clusterx.foo` registered for this database instance."},
		},
		{
			name: "syntax error",
			err:  neo(CodeSyntaxError, "42001", "Invalid input"),
			want: Error{Kind: KindRefused, Code: CodeSyntaxError, GQLStatus: "42001", Message: "Invalid input"},
		},
		{
			name: "database unavailable",
			err:  neo(CodeDatabaseUnavailable, "", "Database 'system' is unavailable."),
			want: Error{Kind: KindTransient, Code: CodeDatabaseUnavailable, Message: "Database 'system' is unavailable."},
		},
		{
			name: "terminated is final",
			err:  neo("Neo.TransientError.Transaction.Terminated", "", "terminated"),
			want: Error{Kind: KindRefused, Code: "Neo.TransientError.Transaction.Terminated", Message: "terminated"},
		},
		{
			name: "database error",
			err:  neo("Neo.DatabaseError.General.UnknownError", "50N42", "boom"),
			want: Error{Kind: KindUnknown, Code: "Neo.DatabaseError.General.UnknownError", Message: "boom"},
		},
		{
			name: "wrapped neo4j error",
			err:  fmt.Errorf("run: %w", neo(CodeNotALeader, "", "x")),
			want: Error{Kind: KindNotLeader, Code: CodeNotALeader, Message: "x"},
		},
		{
			name: "connectivity",
			err:  &driver.ConnectivityError{Inner: errors.New("dial tcp 127.0.0.1:1: connection refused")},
			want: Error{Kind: KindUnreachable, Message: "ConnectivityError: dial tcp 127.0.0.1:1: connection refused"},
		},
		{
			name: "net error",
			err:  &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")},
			want: Error{Kind: KindUnreachable, Message: "dial tcp: connection refused"},
		},
		{
			name: "retry limit reports the last error",
			err: &driver.TransactionExecutionLimit{Cause: "timeout", Errors: []error{
				neo(CodeDatabaseUnavailable, "", "a"), neo(CodeNotALeader, "", "b"),
			}},
			want: Error{Kind: KindNotLeader, Code: CodeNotALeader, Message: "b"},
		},
		{
			name: "usage",
			err:  &driver.UsageError{Message: "URI scheme foo is not supported"},
			want: Error{Kind: KindUnknown, Message: "URI scheme foo is not supported"},
		},
		{
			name: "canceled",
			err:  context.Canceled,
			want: Error{Kind: KindCanceled, Message: "context canceled"},
		},
		{
			name: "deadline wrapped",
			err:  fmt.Errorf("x: %w", context.DeadlineExceeded),
			want: Error{Kind: KindCanceled, Message: "x: context deadline exceeded"},
		},
		{
			name: "already classified",
			err:  fmt.Errorf("ctx: %w", &Error{Kind: KindRefused, Code: "c", Message: "m"}),
			want: Error{Kind: KindRefused, Code: "c", Message: "m"},
		},
		{
			name: "plain",
			err:  errors.New("boom"),
			want: Error{Kind: KindUnknown, Message: "boom"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify("op", tt.err)
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(Error{}, "Op", "Err")); diff != "" {
				t.Errorf("classify (-want +got):\n%s", diff)
			}
			if k := ClassOf(tt.err); k != tt.want.Kind {
				t.Errorf("ClassOf: got %v, want %v", k, tt.want.Kind)
			}
			if !errors.Is(got, tt.err) && tt.name != "already classified" {
				t.Errorf("got an error that does not wrap its cause")
			}
		})
	}
}

func TestKindHelpers(t *testing.T) {
	err := fmt.Errorf("apply: %w", &Error{Kind: KindTransient})
	tests := []struct {
		name string
		fn   func(error) bool
		want bool
	}{
		{name: "IsTransient", fn: IsTransient, want: true},
		{name: "Retryable", fn: Retryable, want: true},
		{name: "IsAuth", fn: IsAuth, want: false},
		{name: "IsRefused", fn: IsRefused, want: false},
		{name: "IsNotLeader", fn: IsNotLeader, want: false},
		{name: "IsUnreachable", fn: IsUnreachable, want: false},
		{name: "IsEnterpriseRequired", fn: IsEnterpriseRequired, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(err); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if ClassOf(nil) != KindUnknown || Retryable(nil) {
		t.Errorf("got a kind for nil, want KindUnknown and not retryable")
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Op: "DROP SERVER 'x'", Kind: KindRefused, Code: "Neo.ClientError.Cluster.X", GQLStatus: "51N41", Message: "not deallocated"}
	want := "neo4j: DROP SERVER 'x': refused: Neo.ClientError.Cluster.X [51N41]: not deallocated"
	if got := e.Error(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRedactor(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	tests := []struct {
		name   string
		secret string
		in     *Error
		want   string
	}{
		{
			name:   "message echoes the password",
			secret: secret,
			in:     &Error{Op: "connect", Kind: KindAuth, Message: "bad password " + secret + " given", Err: errors.New(secret)},
			want:   "neo4j: connect: auth: bad password [REDACTED] given",
		},
		{
			name:   "short secrets are not searched for",
			secret: "ab",
			in:     &Error{Kind: KindAuth, Message: "abcab"},
			want:   "neo4j: auth: abcab",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redactor(tt.secret).error(tt.in)
			if got.Error() != tt.want {
				t.Errorf("got %q, want %q", got.Error(), tt.want)
			}
			for e := error(got); e != nil; e = errors.Unwrap(e) {
				if len(tt.secret) >= 4 && strings.Contains(e.Error(), tt.secret) {
					t.Errorf("got the secret in the chain: %q", e.Error())
				}
			}
		})
	}
	// Redacting must not break errors.Is on context errors.
	e := redactor(secret).error(&Error{Kind: KindCanceled, Message: secret, Err: context.Canceled})
	if !errors.Is(e, context.Canceled) {
		t.Errorf("got errors.Is(context.Canceled) false after redaction, want true")
	}
}

func TestForEdition(t *testing.T) {
	classified := func(msg string) *Error {
		return classify("op", &driver.Neo4jError{Code: CodeProcedureNotFound, GqlStatus: "42001",
			Msg: "There is no procedure with the name `" + msg + "` registered for this database instance."})
	}
	tests := []struct {
		name, proc, edition string
		want                Kind
	}{
		{"cluster procedure, edition unknown", "dbms.cluster.statusCheck", "", KindEnterpriseRequired},
		{"cluster procedure on community", "dbms.cluster.statusCheck", EditionCommunity, KindEnterpriseRequired},
		// An Enterprise server lacking it is too old, not the wrong edition.
		{"cluster procedure on enterprise", "dbms.cluster.statusCheck", EditionEnterprise, KindRefused},
		// Community lacks every Enterprise procedure, clustered or not.
		{"other procedure on community", "dbms.setDefaultAllocationNumbers", EditionCommunity, KindEnterpriseRequired},
		{"other procedure on enterprise", "dbms.setDefaultAllocationNumbers", EditionEnterprise, KindRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := classified(tt.proc)
			before := in.Kind
			if got := forEdition(in, tt.edition).Kind; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if in.Kind != before {
				t.Errorf("forEdition changed its argument's kind from %v to %v", before, in.Kind)
			}
		})
	}
	other := &Error{Kind: KindRefused, Code: CodeSyntaxError}
	if got := forEdition(other, EditionCommunity); got.Kind != KindRefused {
		t.Errorf("syntax error on community: got %v, want refused", got.Kind)
	}
}
