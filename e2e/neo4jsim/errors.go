package neo4jsim

import "fmt"

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
	codeParameterMissing    = "Neo.ClientError.Statement.ParameterMissing"
	codeTypeError           = "Neo.ClientError.Statement.TypeError"
	codeInvalidArguments    = "Neo.ClientError.General.InvalidArguments"
	codeForbiddenReadOnly   = "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"
)

// Messages copied from Neo4j where a client may match on them.
const (
	msgUnauthorized = "The client is unauthorized due to authentication failure."
	msgNotALeader   = "No write operations are allowed on this database. This is a read only Neo4j instance."
)

// cypherError is a Neo4j error as sent in a Bolt FAILURE. gqlStatus and
// description are only sent to Bolt ≥ 5.7 clients, as a real server does.
type cypherError struct {
	code        string
	msg         string
	gqlStatus   string
	description string
}

func (e *cypherError) Error() string { return e.code + ": " + e.msg }

// gqlOf returns the GQL status and description for e, deriving the generic
// ones Neo4j uses when an error has no specific GQL status.
func (e *cypherError) gqlOf() (string, string) {
	if e.gqlStatus != "" {
		return e.gqlStatus, e.description
	}
	switch e.code {
	case CodeSyntaxError:
		return "42001", "error: syntax error or access rule violation - invalid syntax"
	case CodeDatabaseUnavailable:
		return "50N00", "error: general processing exception - internal error. " + e.msg
	case CodeUnauthorized:
		return "42NFF", "error: syntax error or access rule violation - permission/access denied. Access denied, see the security logs for details."
	}
	return "50N42", "error: general processing exception - unexpected error. " + e.msg
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

func unsupportedInCommunity(query, verb string) *cypherError {
	return &cypherError{
		code:        CodeUnsupportedAdmin,
		msg:         "Unsupported administration command: " + query,
		gqlStatus:   "51N27",
		description: fmt.Sprintf("error: system configuration or operation exception - not supported in this edition. '%s' is not supported in community edition.", verb),
	}
}

func procedureNotFound(name string) *cypherError {
	return &cypherError{
		code: CodeProcedureNotFound,
		msg: fmt.Sprintf("There is no procedure with the name `%s` registered for this database instance. "+
			"Please ensure you've spelled the procedure name correctly and that the procedure is properly deployed.", name),
		gqlStatus:   "42N08",
		description: fmt.Sprintf("error: syntax error or access rule violation - no such procedure. The procedure '%s' was not found. Verify that the spelling is correct.", name),
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
