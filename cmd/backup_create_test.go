package cmd

import (
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/neo4jctl/neo4jctl/internal/iostreams"
)

func TestBackupCreateFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		want    BackupCreateOptions
	}{
		{name: "defaults", args: []string{"-f", "c.yaml"}, want: BackupCreateOptions{File: "c.yaml", Type: "full", Output: "human"}},
		{name: "diff of one database", args: []string{"-f", "c.yaml", "--type", "diff", "--database", "movies", "-o", "json"},
			want: BackupCreateOptions{File: "c.yaml", Type: "diff", Database: "movies", Output: "json"}},
		{name: "no file", args: nil, wantErr: "-f CLUSTER_FILE is required"},
		{name: "bad type", args: []string{"-f", "c.yaml", "--type", "incremental"}, wantErr: "--type must be full or diff"},
		{name: "glob database", args: []string{"-f", "c.yaml", "--database", "*"}, wantErr: "is not a database name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io, _, _, _ := iostreams.Test()
			var got *BackupCreateOptions
			cmd := NewCmdBackupCreate(&Factory{IO: io, KubeFlags: genericclioptions.NewConfigFlags(true)}, func(o *BackupCreateOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Out)
			cmd.SetErr(io.ErrOut)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.File != tt.want.File || got.Type != tt.want.Type || got.Database != tt.want.Database || got.Output != tt.want.Output {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}
