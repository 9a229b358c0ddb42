package neo4j

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// Kind is what a caller can do about an error.
type Kind int

// Error kinds.
const (
	// KindUnknown is anything not classified below (including Neo4j
	// DatabaseErrors and driver usage errors).
	KindUnknown Kind = iota
	// KindAuth: wrong credentials, expired credentials or missing privileges
	// (any Neo.ClientError.Security.* code). Retrying will not help.
	KindAuth
	// KindUnreachable: the server could not be reached or the connection
	// dropped (driver connectivity errors, network and TLS errors).
	KindUnreachable
	// KindTransient: Neo.TransientError.* (e.g. DatabaseUnavailable);
	// retrying an idempotent statement later may succeed.
	KindTransient
	// KindNotLeader: the statement reached a server that is not the
	// system database's leader; retry after re-routing.
	KindNotLeader
	// KindEnterpriseRequired: the server rejected a cluster command as
	// unsupported — Community Edition.
	KindEnterpriseRequired
	// KindRefused: the server understood and refused the statement
	// (a Neo.ClientError other than the above, e.g. a DEALLOCATE that would
	// remove a sole primary). Code, GQLStatus and Message say why.
	KindRefused
	// KindCanceled: the caller's context was canceled or its deadline passed.
	KindCanceled
)

var kindNames = map[Kind]string{
	KindUnknown:            "unknown",
	KindAuth:               "auth",
	KindUnreachable:        "unreachable",
	KindTransient:          "transient",
	KindNotLeader:          "not leader",
	KindEnterpriseRequired: "enterprise required",
	KindRefused:            "refused",
	KindCanceled:           "canceled",
}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Neo4j status codes the package recognises.
const (
	CodeUnauthorized            = "Neo.ClientError.Security.Unauthorized"
	CodeAuthorizationExpired    = "Neo.ClientError.Security.AuthorizationExpired"
	CodeNotALeader              = "Neo.ClientError.Cluster.NotALeader"
	CodeForbiddenOnReadOnly     = "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"
	CodeUnsupportedAdminCmd     = "Neo.ClientError.Statement.UnsupportedAdministrationCommand"
	CodeNotSystemDatabase       = "Neo.ClientError.Statement.NotSystemDatabaseError"
	CodeSyntaxError             = "Neo.ClientError.Statement.SyntaxError"
	CodeProcedureNotFound       = "Neo.ClientError.Procedure.ProcedureNotFound"
	CodeDatabaseUnavailable     = "Neo.TransientError.General.DatabaseUnavailable"
	gqlUnsupportedInThisEdition = "51N27"
)

// Error is every error this package returns from a server interaction.
// Its text never contains the password: the client redacts it from the
// message, and the URI is never echoed with its user info.
type Error struct {
	// Op is what was being done ("connect", "SHOW SERVERS", a statement…).
	Op   string
	Kind Kind
	// Code is the Neo4j status code (Neo.ClientError…), when the server sent one.
	Code string
	// GQLStatus is the GQL status (e.g. 51N41), when the server sent one.
	GQLStatus string
	// Message is the server's or driver's message.
	Message string
	// Err is the underlying error, for errors.Is/As (context errors, driver
	// error types). Its own text is not part of Error().
	Err error
}

// Error renders "neo4j: <op>: <kind>: <code> [<gql>]: <message>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("neo4j: ")
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	b.WriteString(e.Kind.String())
	if e.Code != "" {
		b.WriteString(": " + e.Code)
		if e.GQLStatus != "" {
			b.WriteString(" [" + e.GQLStatus + "]")
		}
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the Kind of err: the Kind of an *Error in its chain, or the
// classification of a raw driver, network or context error. nil is
// KindUnknown.
func ClassOf(err error) Kind {
	if err == nil {
		return KindUnknown
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return classify("", err).Kind
}

// IsAuth reports whether err is a KindAuth error.
func IsAuth(err error) bool { return ClassOf(err) == KindAuth }

// IsUnreachable reports whether err is a KindUnreachable error.
func IsUnreachable(err error) bool { return ClassOf(err) == KindUnreachable }

// IsTransient reports whether err is a KindTransient error.
func IsTransient(err error) bool { return ClassOf(err) == KindTransient }

// IsNotLeader reports whether err is a KindNotLeader error.
func IsNotLeader(err error) bool { return ClassOf(err) == KindNotLeader }

// IsEnterpriseRequired reports whether err is a KindEnterpriseRequired error.
func IsEnterpriseRequired(err error) bool { return ClassOf(err) == KindEnterpriseRequired }

// IsRefused reports whether err is a KindRefused error.
func IsRefused(err error) bool { return ClassOf(err) == KindRefused }

// Retryable reports whether an idempotent statement that failed with err may
// be sent again: transient errors, lost leaders and dropped connections.
func Retryable(err error) bool {
	switch ClassOf(err) {
	case KindTransient, KindNotLeader, KindUnreachable:
		return true
	}
	return false
}

// classify turns any error into an *Error. It never calls err.Error() for
// error types that could carry user input other than server messages.
func classify(op string, err error) *Error {
	var already *Error
	if errors.As(err, &already) {
		return already
	}
	e := &Error{Op: op, Kind: KindUnknown, Err: err}

	// The driver gives up on retrying with TransactionExecutionLimit; the
	// last attempt's error is what the caller needs to see.
	var limit *driver.TransactionExecutionLimit
	if errors.As(err, &limit) && len(limit.Errors) > 0 {
		inner := classify(op, limit.Errors[len(limit.Errors)-1])
		inner.Err = err
		return inner
	}

	var tokenExpired *driver.TokenExpiredError
	var neoErr *driver.Neo4jError
	var connErr *driver.ConnectivityError
	var usageErr *driver.UsageError
	var authErr *driver.InvalidAuthenticationError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Kind = KindCanceled
		e.Message = err.Error()
	case errors.As(err, &tokenExpired):
		e.Kind, e.Code, e.Message = KindAuth, tokenExpired.Code, tokenExpired.Message
	case errors.As(err, &neoErr):
		e.Code, e.GQLStatus, e.Message = neoErr.Code, neoErr.GqlStatus, neoErr.Msg
		e.Kind = kindOfCode(neoErr.Code, neoErr.GqlStatus, neoErr.Msg)
	case errors.As(err, &authErr):
		e.Kind, e.Message = KindAuth, err.Error()
	case errors.As(err, &connErr):
		e.Kind, e.Message = KindUnreachable, err.Error()
	case errors.As(err, &usageErr):
		e.Kind, e.Message = KindUnknown, usageErr.Message
	case errors.As(err, &netErr):
		e.Kind, e.Message = KindUnreachable, err.Error()
	default:
		e.Message = err.Error()
	}
	// The GQL "unknown" placeholder the driver fills in adds nothing.
	if e.GQLStatus == "50N42" {
		e.GQLStatus = ""
	}
	return e
}

// unsupportedAdminPrefix starts Community's refusal of a cluster command,
// whichever code it is filed under.
const unsupportedAdminPrefix = "Unsupported administration command"

// kindOfCode maps a Neo4j status code (and GQL status and message) to a Kind.
func kindOfCode(code, gql, msg string) Kind {
	switch {
	case code == CodeNotALeader, code == CodeForbiddenOnReadOnly:
		return KindNotLeader
	case code == CodeUnsupportedAdminCmd, gql == gqlUnsupportedInThisEdition:
		return KindEnterpriseRequired
	// Community 5.26 refuses SHOW SERVERS as NotSystemDatabaseError (even
	// on system) with the same words as its other refusals; the words tell
	// it from a real wrong-database error.
	case code == CodeNotSystemDatabase && strings.HasPrefix(msg, unsupportedAdminPrefix):
		return KindEnterpriseRequired
	// Community has no dbms.cluster.* procedures at all; every Enterprise
	// 5.x has the ones this package calls. (Client.fail corrects this when
	// the server is known to be Enterprise.)
	case code == CodeProcedureNotFound && namesClusterProcedure(msg):
		return KindEnterpriseRequired
	case code == CodeAuthorizationExpired:
		// The driver re-authenticates on the next attempt.
		return KindTransient
	case strings.HasPrefix(code, "Neo.ClientError.Security."):
		return KindAuth
	case strings.HasPrefix(code, "Neo.TransientError."):
		switch code {
		// Old servers filed these as transient; they are final (the driver
		// reclassifies them the same way).
		case "Neo.TransientError.Transaction.LockClientStopped", "Neo.TransientError.Transaction.Terminated":
			return KindRefused
		}
		return KindTransient
	case strings.HasPrefix(code, "Neo.ClientError."):
		return KindRefused
	}
	return KindUnknown
}

// namesClusterProcedure reports whether a ProcedureNotFound message names a
// dbms.cluster.* procedure ("There is no procedure with the name
// `dbms.cluster.cordonServer` registered …"), in any letter case.
func namesClusterProcedure(msg string) bool {
	_, rest, ok := strings.Cut(msg, "`")
	if !ok {
		return false
	}
	name, _, ok := strings.Cut(rest, "`")
	return ok && strings.HasPrefix(strings.ToLower(name), "dbms.cluster.")
}

// forEdition refines e with what the client knows about the server: on
// Community, a missing procedure is one only Enterprise has; on Enterprise,
// a missing dbms.cluster.* procedure means a server too old for it, not a
// missing edition, so it is an ordinary refusal.
func forEdition(e *Error, edition string) *Error {
	if e.Code != CodeProcedureNotFound {
		return e
	}
	switch {
	case edition == EditionCommunity && e.Kind != KindEnterpriseRequired:
		out := *e
		out.Kind = KindEnterpriseRequired
		return &out
	case edition == EditionEnterprise && e.Kind == KindEnterpriseRequired:
		out := *e
		out.Kind = KindRefused
		return &out
	}
	return e
}

// redactor removes a secret from error messages. Secrets shorter than four
// characters are not searched for: Neo4j's minimum password length is 8 and
// redacting one or two letters would garble every message.
type redactor string

func (r redactor) error(e *Error) *Error {
	if len(r) < 4 {
		return e
	}
	out := *e
	out.Message = strings.ReplaceAll(out.Message, string(r), "[REDACTED]")
	out.Op = strings.ReplaceAll(out.Op, string(r), "[REDACTED]")
	if strings.Contains(out.Message, "[REDACTED]") || strings.Contains(out.Op, "[REDACTED]") {
		// The cause carried the secret; keep it only for errors.Is on
		// context errors, which cannot.
		out.Err = redactedCause{out.Err}
	}
	return &out
}

// redactedCause hides a cause whose text contained the password while
// keeping errors.Is(err, context.Canceled) working.
type redactedCause struct{ err error }

func (c redactedCause) Error() string { return "[REDACTED]" }

func (c redactedCause) Is(target error) bool {
	return (target == context.Canceled || target == context.DeadlineExceeded) && errors.Is(c.err, target)
}
