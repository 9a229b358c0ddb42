package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/plan"
)

// confirmDrops asks for the name of every database p drops (state:
// absent), as destroy --delete-data asks for the cluster's: typed at a
// terminal, or given with --confirm-drop NAME. Neither --auto-approve nor
// a saved plan stands in for it: dropping a database deletes its data.
func confirmDrops(ctx context.Context, io *iostreams.IOStreams, p *plan.Plan, given []string) error {
	names := plan.DropConfirmations(p)
	var missing []string
	for _, n := range names {
		if !slices.Contains(given, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !io.IsStdinTTY() {
		flags := make([]string, len(missing))
		for i, n := range missing {
			flags[i] = "--confirm-drop " + n
		}
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("the plan drops %s (DROP DATABASE deletes its data) and each name must be confirmed: stdin is not a terminal, so pass %s (--auto-approve does not confirm it); nothing was applied",
			strings.Join(missing, ", "), strings.Join(flags, " "))}
	}
	for _, n := range missing {
		fmt.Fprintf(io.ErrOut, "\nDROP DATABASE %s deletes its data and cannot be undone.\n  Type the database's name (%s) to drop it: ", n, n)
		answer, err := readLine(ctx, io.In)
		if err != nil {
			var ec *ExitCodeError
			if errors.As(err, &ec) {
				return &ExitCodeError{Code: ExitError, Err: errDropDeclined}
			}
			return err
		}
		if strings.TrimSpace(answer) != n {
			return &ExitCodeError{Code: ExitError, Err: errDropDeclined}
		}
	}
	return nil
}

// errDropDeclined is returned when a typed name is not the database's.
var errDropDeclined = errors.New("apply cancelled: the answer was not the database's name; nothing was applied")
