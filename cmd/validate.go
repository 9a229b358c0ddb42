package cmd

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/drift"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/plan"
)

// ValidateOptions are the inputs of `neo4jctl validate`.
type ValidateOptions struct {
	IO            *iostreams.IOStreams
	File          string
	FlagNamespace string
	// PolicyFiles and FailOn: policy violations of the desired state at or
	// above FailOn make the file invalid.
	PolicyFiles []string
	FailOn      string
}

// NewCmdValidate checks a cluster file without contacting anything.
func NewCmdValidate(f *Factory, runF func(*ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "validate -f CLUSTER_FILE|-",
		Short: "Check a cluster file and report every problem at once",
		Long: `Validate loads a cluster file, fills in defaults and checks it, reporting
every problem at once as FILE:LINE: FIELD.PATH: PROBLEM (FIX). It contacts
nothing and writes nothing.

Besides the schema it refuses what would stop Neo4j from starting: a
spec.config name Neo4j 5.26 does not know (neo4jctl renders
server.config.strict_validation.enabled=true; the names come from the
Operations Manual's configuration settings reference, and 2025.x names are
left to the server), heap + page cache + JVM overhead above a pool's memory
limit, and settings, environment variables, annotations, volumes and mount
paths neo4jctl sets itself, each with the reason.

It also checks what would be rendered against the compliance policies of
spec.policies and --policy-file, printing each violation with its severity;
violations at or above --fail-on (default error) make the file invalid.

Exit codes: 0 valid, 1 invalid, a policy violation at or above --fail-on, or error.`,
		Example: "  neo4jctl validate -f examples/quickstart.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File == "" {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			opts.FlagNamespace = flagNamespace(f)
			if _, err := drift.ParseSeverity(opts.FailOn); err != nil {
				return usageErrorf(cmd, "--fail-on: %v", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run()
		},
	}
	cmd.Flags().StringVarP(&opts.File, "filename", "f", "", "cluster file (YAML or JSON); - reads it from stdin")
	cmd.Flags().StringArrayVar(&opts.PolicyFiles, "policy-file", nil, "file of compliance rules (policies: [...]) checked besides spec.policies (repeatable)")
	cmd.Flags().StringVar(&opts.FailOn, "fail-on", string(drift.SeverityError), "fail on policy violations at least this severe: info, warning, error or critical")
	return cmd
}

// Run loads, defaults, validates and renders the file: a file that loads but
// cannot be rendered is not valid either.
func (o *ValidateOptions) Run() error {
	t, err := loadTarget(o.File, o.FlagNamespace, o.IO.In)
	if err != nil {
		return err
	}
	failing, err := checkPolicies(o.IO.Out, t, o.PolicyFiles, o.FailOn)
	if err != nil {
		return err
	}
	if failing > 0 {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("%d policy %s at or above %s; nothing was contacted or changed",
			failing, pluralWord(failing, "violation", "violations"), o.FailOn)}
	}
	c := t.Cluster
	name := o.File
	if name == stdinFile {
		name = stdinName
	}
	_, err = fmt.Fprintf(o.IO.Out, "%s is valid: %s cluster %s, Neo4j %s, %d servers, %d objects rendered\n",
		name, c.Spec.Edition, t.Name(), c.Spec.Version, totalServers(c), len(t.Objects))
	return err
}

// checkPolicies prints every compliance-policy violation of a target's
// desired state (spec.policies and policyFiles) as
// FILE:LINE: RULE_PATH (NAME) [SEVERITY]: ADDRESS FIELD: PROBLEM and returns
// how many are at or above failOn.
func checkPolicies(w io.Writer, t *pipeline.Target, policyFiles []string, failOn string) (int, error) {
	rules := drift.RulesOf(t.Cluster)
	for _, pf := range policyFiles {
		more, err := drift.LoadPolicyFile(pf)
		if err != nil {
			return 0, err
		}
		rules = append(rules, more...)
	}
	if len(rules) == 0 {
		return 0, nil
	}
	threshold, err := drift.ParseSeverity(failOn)
	if err != nil {
		return 0, err
	}
	failing := 0
	for _, v := range drift.EvaluateDesired(rules, t) {
		if v.Severity.AtLeast(threshold) {
			failing++
		}
		// The message quotes the value found, which may hold a credential
		// inside it (-Dfoo.password=…).
		fmt.Fprintf(w, "%s:%d: %s (%s) [%s]: %s: %s\n", v.File, v.Line, v.RulePath, v.Rule, v.Severity, v.Target(), plan.RedactText(v.Message))
	}
	return failing, nil
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// loadCluster loads a cluster file and resolves its namespace against the
// --namespace flag (the file wins; a mismatch is an error).
func loadCluster(path, flagNS string) (*clusterfile.Cluster, string, error) {
	c, err := clusterfile.LoadFile(path)
	if err != nil {
		return nil, "", err
	}
	ns, err := c.Namespace(flagNS)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return c, ns, nil
}

func totalServers(c *clusterfile.Cluster) int32 {
	n := c.Spec.Servers
	for _, p := range c.Spec.ServerPools {
		n += p.Servers
	}
	return n
}

// flagNamespace is the --namespace flag's value when the user gave one.
func flagNamespace(f *Factory) string {
	if f.KubeFlags == nil || f.KubeFlags.Namespace == nil {
		return ""
	}
	return *f.KubeFlags.Namespace
}
