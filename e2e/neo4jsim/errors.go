package neo4jsim

import (
	"fmt"
	"strings"
)

// Neo4j status codes the simulator reproduces. They are the codes a real
// server sends, so the driver classifies them (retriable, security, …) the
// same way.
const (
	CodeUnauthorized        = "Neo.ClientError.Security.Unauthorized"
	CodeSyntaxError         = "Neo.ClientError.Statement.SyntaxError"
	CodeUnsupportedAdmin    = "Neo.ClientError.Statement.UnsupportedAdministrationCommand"
	CodeArgumentError       = "Neo.ClientError.Statement.ArgumentError"
	CodeDatabaseUnavailable = "Neo.TransientError.General.DatabaseUnavailable"
	CodeNotALeader          = "Neo.ClientError.Cluster.NotALeader"
	CodeDatabaseNotFound    = "Neo.ClientError.Database.DatabaseNotFound"
	CodeExistingDatabase    = "Neo.ClientError.Database.ExistingDatabaseFound"
	CodeProcedureNotFound   = "Neo.ClientError.Procedure.ProcedureNotFound"
	CodeRequestInvalid      = "Neo.ClientError.Request.Invalid"
	CodeProcedureCallFailed = "Neo.ClientError.Procedure.ProcedureCallFailed"
	codeParameterMissing    = "Neo.ClientError.Statement.ParameterMissing"
	codeTypeError           = "Neo.ClientError.Statement.TypeError"
	codeInvalidArguments    = "Neo.ClientError.General.InvalidArguments"
	codeForbiddenReadOnly   = "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"
	codeNotSystemDatabase   = "Neo.ClientError.Statement.NotSystemDatabaseError"
)

// Messages copied from Neo4j where a client may match on them.
const (
	msgUnauthorized = "The client is unauthorized due to authentication failure."
	msgNotALeader   = "No write operations are allowed on this database. This is a read only Neo4j instance."
)

// cypherError is a Neo4j error as sent in a Bolt FAILURE. gqlStatus,
// description and cause are only sent to Bolt ≥ 5.7 clients, as a real
// server does.
type cypherError struct {
	code        string
	msg         string
	gqlStatus   string
	description string
	// cause is the GQL cause chain Neo4j attaches to some errors (a missing
	// procedure is 42001 "invalid syntax" caused by 42N08). A cause carries
	// no Neo4j code of its own.
	cause *cypherError
}

func (e *cypherError) Error() string { return e.code + ": " + e.msg }

// The fallback Neo4j 5.26 sends for an error it has no GQL status for: the
// recorded Community facts (e2e/contract/testdata) show it, with no
// _classification in the diagnostic record, for UnsupportedAdministration-
// Command, NotSystemDatabaseError, SyntaxError, DatabaseNotFound and the
// authentication failures. It is the server's own text, not the driver's
// placeholder (which would end with the error's message).
const (
	gqlFallbackStatus      = "50N42"
	gqlFallbackDescription = "error: general processing exception - unexpected error. Unexpected error has occurred. See debug log for details."
)

// gqlOf returns the GQL status, description and diagnostic classification
// for e ("" for none). An explicit status is always used. Without one,
// Community mode answers with the fallback real 5.26 was recorded sending;
// Enterprise mode, which has no recorded facts, derives the status Neo4j
// documents for the code.
func (e *cypherError) gqlOf(community bool) (status, description, class string) {
	class = "CLIENT_ERROR"
	switch {
	case strings.HasPrefix(e.code, "Neo.TransientError."):
		class = "TRANSIENT_ERROR"
	case strings.HasPrefix(e.code, "Neo.DatabaseError."):
		class = "DATABASE_ERROR"
	}
	if e.gqlStatus != "" {
		return e.gqlStatus, e.description, class
	}
	if community {
		return gqlFallbackStatus, gqlFallbackDescription, ""
	}
	switch e.code {
	case CodeSyntaxError:
		return "42001", "error: syntax error or access rule violation - invalid syntax", class
	case CodeDatabaseUnavailable:
		return "50N00", "error: general processing exception - internal error. " + e.msg, class
	case CodeUnauthorized:
		return "42NFF", "error: syntax error or access rule violation - permission/access denied. Access denied, see the security logs for details.", class
	}
	return gqlFallbackStatus, "error: general processing exception - unexpected error. " + e.msg, class
}

// gqlFields renders e as the Bolt ≥ 5.7 FAILURE metadata (or, for a cause,
// the nested map), cause included.
func (e *cypherError) gqlFields(community bool) map[string]any {
	status, desc, class := e.gqlOf(community)
	diag := map[string]any{"CURRENT_SCHEMA": "/", "OPERATION": "", "OPERATION_CODE": "0"}
	if class != "" {
		diag["_classification"] = class
	}
	m := map[string]any{
		"message":           e.msg,
		"gql_status":        status,
		"description":       desc,
		"diagnostic_record": diag,
	}
	if e.code != "" {
		m["neo4j_code"] = e.code
	}
	if e.cause != nil {
		m["cause"] = e.cause.gqlFields(community)
	}
	return m
}

// topologyError builds the errors Neo4j's topology commands raise
// (InvalidArgumentException.cannot*: status ArgumentError, GQL 51N41, legacy
// message "<operation> <cause>").
func topologyError(operation, cause string) *cypherError {
	return &cypherError{
		code:        CodeArgumentError,
		msg:         operation + " " + cause,
		gqlStatus:   "51N41",
		description: "error: system configuration or operation exception - admin operation failed. " + cause,
	}
}

// unsupportedInCommunity is Community's answer to a cluster command. Real
// 5.26 attaches no GQL status to it (the fallback 50N42, not 51N27), so none
// is set here.
func unsupportedInCommunity(query string) *cypherError {
	return &cypherError{code: CodeUnsupportedAdmin, msg: "Unsupported administration command: " + query}
}

// showServersInCommunity is Community's answer to SHOW SERVERS: the same
// message as the other cluster commands, but filed by real 5.26 under
// NotSystemDatabaseError, on system as on any other database.
func showServersInCommunity(query string) *cypherError {
	return &cypherError{code: codeNotSystemDatabase, msg: "Unsupported administration command: " + query}
}

// procedureNotFound is what real 5.26 answers for an unknown procedure
// (recorded for dbms.cluster.* on Community): 42001 caused by 42N08.
func procedureNotFound(name string) *cypherError {
	cause := fmt.Sprintf("The procedure or function %s() was not registered for this database instance. Verify that the spelling is correct.", name)
	return &cypherError{
		code: CodeProcedureNotFound,
		msg: fmt.Sprintf("There is no procedure with the name `%s` registered for this database instance. "+
			"Please ensure you've spelled the procedure name correctly and that the procedure is properly deployed.", name),
		gqlStatus:   "42001",
		description: "error: syntax error or access rule violation - invalid syntax",
		cause: &cypherError{
			msg:         "42N08: " + cause,
			gqlStatus:   "42N08",
			description: "error: syntax error or access rule violation - no such procedure or function. " + cause,
		},
	}
}

func databaseNotFound(action, name string) *cypherError {
	return &cypherError{
		code:        CodeDatabaseNotFound,
		msg:         fmt.Sprintf("Failed to %s the specified database '%s': Database does not exist.", action, name),
		gqlStatus:   "22N51",
		description: fmt.Sprintf("error: data exception - database does not exist. A graph reference with the name '%s' was not found. Verify that the spelling is correct.", name),
	}
}

// procedureCallFailed is a procedure refusing its arguments, in the words
// the manual shows for dbms.setConfigValue ("Failed to invoke procedure
// `dbms.setConfigValue`: Caused by: …"); GQL 52N02, procedure execution
// client error.
func procedureCallFailed(proc, cause string) *cypherError {
	return &cypherError{
		code:        CodeProcedureCallFailed,
		msg:         fmt.Sprintf("Failed to invoke procedure `%s`: Caused by: %s", proc, cause),
		gqlStatus:   "52N02",
		description: fmt.Sprintf("error: procedure exception - procedure execution client error. Execution of the procedure `%s` failed due to a client error.", proc),
	}
}
