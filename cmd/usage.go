package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

// usageErrorf reports bad command-line usage; it exits 1 like every error
// (never 0 on bad usage) and points at --help.
func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return fmt.Errorf("%s\nSee '%s --help'.", fmt.Sprintf(format, args...), cmd.CommandPath())
}
