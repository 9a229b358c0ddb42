package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/lifecycle"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
	"github.com/neo4jctl/neo4jctl/plan"
)

// NewCmdRotate groups the credential rotations.
func NewCmdRotate(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate credentials without locking anyone out",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdRotatePassword(f, nil))
	return cmd
}

// RotatePasswordOptions are the inputs of `neo4jctl rotate password`.
type RotatePasswordOptions struct {
	IO            *iostreams.IOStreams
	File          string
	FlagNamespace string
	Lock          bool
	LockTimeout   time.Duration
	cluster       clusterFlags

	runner func() (*pipeline.Runner, error)
	// step lets a test stop the rotation after a step, as a kill would.
	step func(lifecycle.RotateStep) error
}

// NewCmdRotatePassword changes the admin password and the Secret holding it.
func NewCmdRotatePassword(f *Factory, runF func(*RotatePasswordOptions) error) *cobra.Command {
	opts := &RotatePasswordOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "password -f CLUSTER_FILE",
		Short: "Change the admin password and the Secret the cluster file references",
		Long: `Rotate password changes the password of the Neo4j admin user (the user
neo4jctl logs in as) to a new random one, the way the Operations Manual has
a user change its own password: ALTER CURRENT USER SET PASSWORD FROM old TO
new against the system database (the passwords sent as parameters, never in
the statement). The Secret of spec.auth.secretRef then holds the new
password under its key.

It never locks the admin out. The new password is written to the Secret's
next-<key> key before Neo4j hears of it; a run interrupted at any point is
finished by running it again, which decides by trying which password logs
in (and rolls back if Neo4j refused the change). Meanwhile plan, apply,
watch and healthcheck log in with <key>, then next-<key>.

Neither password is ever printed. It holds the cluster's apply lock.

Exit codes: 0 rotated (or an interrupted rotation finished), 1 error, 130
interrupted.`,
		Example: `  neo4jctl rotate password -f cluster.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File == "" {
				return usageErrorf(cmd, "-f CLUSTER_FILE is required")
			}
			if opts.cluster.SkipNeo4j {
				return usageErrorf(cmd, "--skip-neo4j: rotating the password needs Neo4j")
			}
			if opts.cluster.Neo4jPassFile != "" {
				return usageErrorf(cmd, "--neo4j-password-file: rotate reads and writes the password in the Secret of spec.auth.secretRef, and takes no other")
			}
			opts.FlagNamespace = flagNamespace(f)
			opts.runner = func() (*pipeline.Runner, error) { return newRunner(f, &opts.cluster) }
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "filename", "f", "", "the cluster file")
	fl.BoolVar(&opts.Lock, "lock", true, "hold the cluster's Lease while rotating")
	fl.DurationVar(&opts.LockTimeout, "lock-timeout", 0, "how long to wait for another apply's lock before giving up")
	opts.cluster.add(fl)
	return cmd
}

// neo4jSession is a logged-in client and what closes its port-forwards.
type neo4jSession struct {
	c interface {
		ChangeOwnPassword(ctx context.Context, old, next string) error
	}
	close func()
}

func (s neo4jSession) ChangeOwnPassword(ctx context.Context, old, next string) error {
	return s.c.ChangeOwnPassword(ctx, old, next)
}

func (s neo4jSession) Close(context.Context) error { s.close(); return nil }

// Run locks and rotates.
func (o *RotatePasswordOptions) Run(ctx context.Context) error {
	t, err := loadTarget(o.File, o.FlagNamespace, nil)
	if err != nil {
		return err
	}
	ref := t.Cluster.Spec.Auth.SecretRef
	if ref == nil {
		return fmt.Errorf("%s: the cluster file has no spec.auth.secretRef: there is no Secret to rotate", o.File)
	}
	key := ref.Key
	if key == "" {
		key = "password"
	}
	r, err := o.runner()
	if err != nil {
		return err
	}
	runCtx := ctx
	if o.Lock {
		lockCtx, release, err := holdApplyLock(ctx, r.Kube, t, o.LockTimeout, o.IO.ErrOut)
		if err != nil {
			return err
		}
		defer release()
		runCtx = lockCtx
	}
	rot := &lifecycle.Rotator{
		Secrets: r.Kube, Namespace: t.Namespace, Secret: ref.Name, Key: key,
		Login: func(ctx context.Context, pw string) (lifecycle.Session, error) {
			acc := r.Neo4j
			acc.Password = pw
			c, closeFn, err := acc.Connect(ctx, r.Kube, t)
			if err != nil {
				return nil, err
			}
			return neo4jSession{c: c, close: closeFn}, nil
		},
		// Hidden from every output, wherever they might appear.
		OnSecret: plan.RegisterSecretValue,
		Step: func(s lifecycle.RotateStep) error {
			fmt.Fprintf(o.IO.ErrOut, "%s: %s\n", t.Name(), rotateStepText[s])
			if o.step != nil {
				return o.step(s)
			}
			return nil
		},
	}
	out, err := rot.Rotate(runCtx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: run rotate again to finish", errInterrupted)
		}
		if cause := context.Cause(runCtx); errors.Is(cause, kube.ErrLockLost) {
			return fmt.Errorf("%w; stopped rotating. Run rotate again to finish", cause)
		}
		return fmt.Errorf("%s: %w", t.Name(), err)
	}
	switch out {
	case lifecycle.Finished:
		fmt.Fprintf(o.IO.Out, "Finished the interrupted rotation: Secret %s/%s key %q holds the admin password.\n", t.Namespace, ref.Name, key)
	default:
		fmt.Fprintf(o.IO.Out, "Rotated the admin password: Secret %s/%s key %q holds the new one.\n", t.Namespace, ref.Name, key)
	}
	return nil
}

var rotateStepText = map[lifecycle.RotateStep]string{
	lifecycle.StepLogin:      "logged in",
	lifecycle.StepRecordNext: "recorded the next password in the Secret",
	lifecycle.StepAlter:      "ALTER CURRENT USER SET PASSWORD done",
	lifecycle.StepVerify:     "the new password logs in",
	lifecycle.StepPromote:    "the Secret's key holds the new password",
	lifecycle.StepRollBack:   "Neo4j refused the change: the next password was removed",
}
