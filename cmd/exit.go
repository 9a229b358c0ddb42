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
		fmt.Fprintf(w, "Error: %d %s in the cluster file; nothing was planned or changed.\n", n, pluralWord(n, "problem", "problems"))
		return
	}
	if interrupted(err) {
		// Ctrl-C is what the user asked for, not an error: say what it
		// left behind, without "Error:".
		if msg := interruptedText(err); msg != "" {
			fmt.Fprintf(w, "Interrupted: %s\n", msg)
		} else {
			fmt.Fprintln(w, "Interrupted.")
		}
		return
	}
	fmt.Fprintf(w, "Error: %s\n", err)
}

// interruptedText is what an interruption left behind ("the lock was
// released; run apply again to converge"), or "".
func interruptedText(err error) string {
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), errInterrupted.Error()), ": ")
	if msg == context.Canceled.Error() {
		return ""
	}
	return msg
}

// interrupted reports whether err is Ctrl-C's (exit 130).
func interrupted(err error) bool {
	var ec *ExitCodeError
	if errors.As(err, &ec) {
		return ec.Code == ExitInterrupted
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, errInterrupted)
}
