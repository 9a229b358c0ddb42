package cmd

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

// NewCmdVersion prints the build's version, commit and date.
func NewCmdVersion(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print neo4jctl's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := struct {
				Version   string `json:"version"`
				Commit    string `json:"commit"`
				Date      string `json:"date"`
				GoVersion string `json:"goVersion"`
				Platform  string `json:"platform"`
			}{f.Build.Version, f.Build.Commit, f.Build.Date, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH}
			switch output {
			case "json":
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			case "", "text":
				_, err := fmt.Fprintf(f.IO.Out, "neo4jctl %s (commit %s, built %s, %s, %s)\n",
					info.Version, info.Commit, info.Date, info.GoVersion, info.Platform)
				return err
			}
			return usageErrorf(cmd, "-o must be text or json, got %q", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
