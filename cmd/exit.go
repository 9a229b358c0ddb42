package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// Exit codes, decided only in Main (PLAN-UX.md "Exit codes").
const (
	ExitOK          = 0
	ExitError       = 1
	ExitChanges     = 2 // changes present (plan), drift found, or changes applied
	ExitInterrupted = 130
)

// ExitCodeError asks Main to exit with Code. When Err is nil nothing is
// printed: the command has already told the user everything (for example a
// plan that has changes under --detailed-exitcode).
type ExitCodeError struct {
	Code int
	Err  error
}

func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitCodeError) Unwrap() error { return e.Err }

// silentExit returns an error that makes Main exit with code and print nothing.
func silentExit(code int) error { return &ExitCodeError{Code: code} }

// exitCode maps an error returned by a command to the process exit code and
// reports whether the error should be printed.
func exitCode(err error) (int, bool) {
	if err == nil {
		return ExitOK, false
	}
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		return ec.Code, ec.Err != nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, errInterrupted) {
		return ExitInterrupted, true
	}
	return ExitError, true
}

var errInterrupted = errors.New("interrupted")

// printError writes err once, prefixed like kubectl and gh do. Cluster-file
// problems are printed one per line as file:line: path: problem (fix), the
// form editors and CI annotations understand, followed by a count.
func printError(w io.Writer, err error) {
	var list *clusterfile.ErrorList
	if errors.As(err, &list) && len(list.Errors) > 0 {
		fmt.Fprintln(w, strings.TrimRight(err.Error(), "\n"))
		n := len(list.Errors)
		noun := "problems"
		if n == 1 {
			noun = "problem"
		}
		fmt.Fprintf(w, "Error: %d %s in the cluster file; nothing was planned or changed.\n", n, noun)
		return
	}
	fmt.Fprintf(w, "Error: %s\n", err)
}
