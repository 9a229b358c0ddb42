package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/neo4jctl/neo4jctl/backup/crypt"
	"github.com/neo4jctl/neo4jctl/backup/ops"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// NewCmdBackupKeys groups the keyset commands.
func NewCmdBackupKeys(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the keyset that encrypts backups",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdBackupKeysRotate(f, nil))
	return cmd
}

// BackupKeysRotateOptions are the inputs of `neo4jctl backup keys rotate`.
type BackupKeysRotateOptions struct {
	BackupOptions
	FlagNamespace  string
	Out            string
	SecretManifest string
	Stdout         bool
	New            bool
}

// NewCmdBackupKeysRotate adds a new primary key to the keyset.
func NewCmdBackupKeysRotate(f *Factory, runF func(*BackupKeysRotateOptions) error) *cobra.Command {
	opts := &BackupKeysRotateOptions{BackupOptions: newBackupOptions(f)}
	cmd := &cobra.Command{
		Use:   "rotate -f CLUSTER_FILE (--out FILE | --secret-manifest FILE | --stdout) [--new]",
		Short: "Add a new primary key to the backup keyset; old keys still decrypt",
		Long: `Rotate reads the current keyset (as the agent does: --keyset-file, the
mounted Secret, or $NEO4JCTL_BACKUP_KEYSET), adds a new AES256_GCM_HKDF_1MB
key and makes it the primary one: later backups are encrypted with it, and
every older key stays in the keyset so older backups still decrypt.

The new keyset is secret. It is written to --out FILE, or as a Secret
manifest named after spec.backups.encryption.keysetSecret to
--secret-manifest FILE (then: kubectl apply -f FILE), both created with
mode 0600 and never overwritten; it reaches stdout only with --stdout.
--new makes the first keyset when there is none (it refuses to replace an
existing one, whose keys decrypt the existing backups).`,
		Example: `  neo4jctl backup keys rotate -f cluster.yaml --new --secret-manifest keyset-secret.yaml
  neo4jctl backup keys rotate -f cluster.yaml --keyset-file current.json --secret-manifest keyset-secret.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(cmd); err != nil {
				return err
			}
			n := 0
			for _, set := range []bool{opts.Out != "", opts.SecretManifest != "", opts.Stdout} {
				if set {
					n++
				}
			}
			if n != 1 {
				return usageErrorf(cmd, "give exactly one of --out FILE, --secret-manifest FILE and --stdout: the keyset is secret and goes only where you say")
			}
			opts.FlagNamespace = flagNamespace(f)
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	opts.addFlags(cmd, true, false)
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the new keyset (Tink JSON) to this new file")
	cmd.Flags().StringVar(&opts.SecretManifest, "secret-manifest", "", "write a Secret manifest holding the new keyset to this new file")
	cmd.Flags().BoolVar(&opts.Stdout, "stdout", false, "print the new keyset on stdout")
	cmd.Flags().BoolVar(&opts.New, "new", false, "make the first keyset (refused when one exists)")
	return cmd
}

// Run rotates.
func (o *BackupKeysRotateOptions) Run(ctx context.Context) error {
	c, err := clusterfile.LoadFile(o.File)
	if err != nil {
		return err
	}
	b := c.Spec.Backups
	if b == nil {
		return errors.New(o.File + " has no spec.backups (docs/backups.md)")
	}
	var kms crypt.KMS = crypt.Cleartext
	if b.Encryption.KMS != "" {
		if kms, err = ops.DefaultKMS(ctx, b.Encryption.KMS); err != nil {
			return err
		}
	}
	current, src, err := ops.ReadKeyset(b.Encryption, o.SecretsDir, o.KeysetFile, o.Getenv)
	switch {
	case err == nil && o.New:
		return fmt.Errorf("--new: a keyset exists at %s, and its keys decrypt the existing backups; rotate it instead (drop --new)", src)
	case err != nil && !o.New:
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w (pass --new to make the first keyset)", err)
		}
		return err
	case err != nil:
		current = nil
	}
	r, err := ops.RotateKeyset(current, kms)
	if err != nil {
		return err
	}
	out := r.Keyset
	dest := o.Out
	if o.SecretManifest != "" {
		ns, err := c.Namespace(o.FlagNamespace)
		if err != nil {
			return err
		}
		if out, err = ops.SecretManifest(ns, b.Encryption.KeysetSecret.Name, b.Encryption.KeysetSecret.Key, r.Keyset); err != nil {
			return err
		}
		dest = o.SecretManifest
	}
	if o.Stdout {
		if _, err := o.IO.Out.Write(append(out, '\n')); err != nil {
			return err
		}
	} else if err := writeNewFile(dest, out); err != nil {
		return err
	}
	verb := "Added key " + r.NewKeyID + " as the primary key"
	if r.Created {
		verb = "Made a new keyset with key " + r.NewKeyID
	}
	where := "stdout"
	if dest != "" {
		where = dest
	}
	next := ""
	if o.SecretManifest != "" {
		next = fmt.Sprintf(" Apply it with: kubectl apply -f %s", dest)
	}
	fmt.Fprintf(o.IO.ErrOut, "%s; the keyset holds keys %s (older keys still decrypt older backups). Wrote it to %s.%s\n", verb, strings.Join(r.KeyIDs, ", "), where, next)
	return nil
}

// writeNewFile creates path with mode 0600; an existing file is refused.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write the keyset: %w (it is never overwritten)", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
