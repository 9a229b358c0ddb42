package restore

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

func withCopies(c *clusterfile.Cluster) *clusterfile.Cluster {
	c.Spec.Backups.Copies = []clusterfile.BackupLocation{
		{URL: "s3://dr-eu/neo4j?region=eu-west-1&endpoint=https://s3.eu.example", CredentialsSecret: "dr-eu-s3"},
		{URL: "s3://dr-us/neo4j?region=us-east-1", CredentialsSecret: "dr-us-s3"},
		{URL: "gs://dr-gcs/neo4j"},
	}
	return c
}

func TestResolveCopy(t *testing.T) {
	b := withCopies(cluster(clusterfile.EditionEnterprise)).Spec.Backups
	tests := []struct{ name, v, want, err string }{
		{name: "by URL as written", v: "s3://dr-us/neo4j?region=us-east-1", want: "s3://dr-us/neo4j?region=us-east-1"},
		{name: "by URL as catalogued (query sorted, trailing slash)", v: "s3://dr-eu/neo4j/?endpoint=https://s3.eu.example&region=eu-west-1", want: "s3://dr-eu/neo4j?region=eu-west-1&endpoint=https://s3.eu.example"},
		{name: "by region", v: "eu-west-1", want: "s3://dr-eu/neo4j?region=eu-west-1&endpoint=https://s3.eu.example"},
		{name: "a bucket without a region, by URL", v: "gs://dr-gcs/neo4j", want: "gs://dr-gcs/neo4j"},
		{name: "unknown", v: "ap-south-1", err: "no spec.backups.copies entry has that URL or region"},
		{name: "the primary storage is not a copy", v: "s3://b/p", err: "no spec.backups.copies entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveCopy(b, tt.v)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, %v; want an error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got.URL != tt.want {
				t.Fatalf("got %q, %v; want %q", got.URL, err, tt.want)
			}
		})
	}
	two := *b
	two.Copies = append(two.Copies, clusterfile.BackupLocation{URL: "s3://dr-eu-2/neo4j?region=eu-west-1"})
	if _, err := ResolveCopy(&two, "eu-west-1"); err == nil || !strings.Contains(err.Error(), "2 copies are in that region") {
		t.Errorf("two copies in one region: got %v, want a refusal naming both", err)
	}
	if _, err := ResolveCopy(cluster(clusterfile.EditionEnterprise).Spec.Backups, "eu-west-1"); err == nil || !strings.Contains(err.Error(), "lists no spec.backups.copies") {
		t.Errorf("no copies: got %v", err)
	}
}

// TestSelectCopyWithQueryInAnotherOrder: the catalogue records a copy's
// URL as the blob package prints it (query sorted); the cluster file may
// write it in another order. They are one location.
func TestSelectCopyWithQueryInAnotherOrder(t *testing.T) {
	f1 := entry(t, 2, 1, 10, nil)
	f1 = copied(f1, "s3://dr-eu/neo4j?endpoint=https%3A%2F%2Fs3.eu.example&region=eu-west-1")
	// As --from-copy resolves it from the cluster file's copies.
	loc := "s3://dr-eu/neo4j/?region=eu-west-1&endpoint=https://s3.eu.example"
	p, err := Select([]catalog.Entry{f1}, Request{Cluster: "prod", Database: "neo4j", Latest: true, Location: loc})
	if err != nil || p.Target().ID != f1.ID {
		t.Fatalf("got %+v, %v; want %s from the copy", p, err, f1.ID)
	}
}

// TestComputeAndBuildIntoAnotherClusterFromACopy: the backups of
// prod/prod, read from its copy in eu-west-1, restored into a new
// Enterprise cluster prod-dr (namespace dr, no spec.backups of its own).
// The plan names source and target; the seed Pod mounts only the copy's
// credentials and the keyset, runs `restore fetch` with the entry the
// plan read (the copy has no catalogue), and uses the servers'
// ServiceAccount (the backup one exists only with spec.backups).
func TestComputeAndBuildIntoAnotherClusterFromACopy(t *testing.T) {
	src := withCopies(cluster(clusterfile.EditionEnterprise))
	loc, err := ResolveCopy(src.Spec.Backups, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	dst := cluster(clusterfile.EditionEnterprise)
	dst.Metadata.Name, dst.Spec.Backups = "prod-dr", nil
	f1 := copied(entry(t, 2, 1, 10, nil), LocationURL(loc.URL))
	d1 := copied(entry(t, 8, 11, 20, &f1), LocationURL(loc.URL))
	in := Input{Cluster: dst, Namespace: "dr", Context: "kind-dr", Database: "neo4j",
		Source:  Source{Cluster: "prod", Namespace: "prod", File: "prod.yaml"},
		Backups: FetchBackups(src.Spec.Backups, &loc),
		Point:   Point{Chain: []catalog.Entry{f1, d1}, Location: LocationURL(loc.URL), RestoredTo: at(8)}, Now: at(12)}
	p := Compute(in)
	if len(p.Refusals) != 0 || !p.FromOtherCluster() || p.Action != ActionCreate {
		t.Fatalf("plan: refusals %v, other %v, action %s", p.Refusals, p.FromOtherCluster(), p.Action)
	}
	wantSrc := Source{Cluster: "prod", Namespace: "prod", File: "prod.yaml", Storage: "s3://dr-eu/neo4j?endpoint=https%3A%2F%2Fs3.eu.example&region=eu-west-1", Secrets: []string{"bk-keyset", "dr-eu-s3"}}
	if d := cmp.Diff(wantSrc, p.Source); d != "" {
		t.Errorf("source (-want +got):\n%s", d)
	}
	if p.Cluster != "prod-dr" || p.Namespace != "dr" || p.Context != "kind-dr" || p.ServiceAccount != "prod-dr" {
		t.Errorf("target: %s/%s context %s, ServiceAccount %s", p.Namespace, p.Cluster, p.Context, p.ServiceAccount)
	}
	if want := "the new database neo4j holds the data of prod/prod's neo4j up to 2026-12-07T08:00:00Z (4h0m0s before now); the source is not touched"; p.Window.Description != want {
		t.Errorf("window:\ngot  %s\nwant %s", p.Window.Description, want)
	}
	notes := strings.Join(p.Notes, "\n")
	for _, want := range []string{"The source cluster prod/prod (prod.yaml) is only read", "no request goes to its Kubernetes namespace", "read from the copy s3://dr-eu/neo4j"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}

	o, err := Build(dst, p, "kind: Neo4jCluster\n")
	if err != nil {
		t.Fatal(err)
	}
	spec := o.Pod.Spec
	if spec.ServiceAccountName != "prod-dr" || o.Pod.Namespace != "dr" {
		t.Errorf("seed Pod %s/%s runs as %s", o.Pod.Namespace, o.Pod.Name, spec.ServiceAccountName)
	}
	var secrets []string
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			secrets = append(secrets, v.Secret.SecretName)
		}
	}
	if got := strings.Join(secrets, " "); got != "bk-keyset dr-eu-s3" {
		t.Errorf("the seed Pod mounts Secrets %s, want the keyset and the copy's credentials only", got)
	}
	for i, e := range []catalog.Entry{f1, d1} {
		args := strings.Join(spec.InitContainers[i].Args, " ")
		want := "restore fetch --entry /restore/conf/entry-" + string(rune('0'+i)) + ".json -o /restore/work/" + e.File + " -f /restore/conf/cluster.yaml --secrets-dir /var/run/secrets/neo4jctl/backup"
		if args != want {
			t.Errorf("fetch-%d:\ngot  %s\nwant %s", i, args, want)
		}
		var got catalog.Entry
		if err := json.Unmarshal([]byte(o.ConfigMap.Data[EntryFile(i)]), &got); err != nil {
			t.Fatalf("ConfigMap %s: %v", EntryFile(i), err)
		}
		if got.ID != e.ID || got.CiphertextSHA256 != e.CiphertextSHA256 || len(got.Copies) != 1 {
			t.Errorf("ConfigMap %s holds %s (sha %s, %d copies), want the entry %s", EntryFile(i), got.ID, got.CiphertextSHA256, len(got.Copies), e.ID)
		}
	}

	// The Secrets missing from the target's namespace refuse the restore.
	in.MissingSecrets = []string{"dr-eu-s3"}
	if p := Compute(in); len(p.Refusals) != 1 || !strings.Contains(p.Refusals[0], "Secret dr-eu-s3 is not in namespace dr") {
		t.Errorf("refusals: %v", p.Refusals)
	}

	// Over an existing database of the target: the window says whose
	// data replaces whose.
	in.MissingSecrets, in.IntoExists = nil, true
	if p := Compute(in); p.Action != ActionReplace || !strings.Contains(p.Window.Description, "the data of neo4j in dr/prod-dr is replaced by prod/prod's neo4j as of 2026-12-07T08:00:00Z") {
		t.Errorf("replace in another cluster: %s: %s", p.Action, p.Window.Description)
	}
}

// TestComputeInPlaceIsUnchanged: without a source, the plan's source is
// the target itself, its storage and Secrets are the target's, and the
// fetch containers run `backup download` (the catalogue is there).
func TestComputeInPlaceIsUnchanged(t *testing.T) {
	c := cluster(clusterfile.EditionCommunity)
	p := Compute(Input{Cluster: c, Namespace: "graphs", Database: "neo4j",
		Point: Point{Chain: []catalog.Entry{dump(t, 2)}, RestoredTo: at(2)}, Now: at(12), IntoExists: true, Replicas: 1})
	if p.FromOtherCluster() || p.Source.Storage != "s3://b/p" || strings.Join(p.Source.Secrets, " ") != "bk-keyset bk-s3" {
		t.Fatalf("source %+v", p.Source)
	}
	for _, n := range p.Notes {
		if strings.Contains(n, "only read") {
			t.Errorf("an in-place restore notes %q", n)
		}
	}
	o, err := Build(c, p, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Job.Spec.Template.Spec.InitContainers[0].Args[0]; got != "backup" {
		t.Errorf("fetch runs %q, want backup download", got)
	}
	if _, ok := o.ConfigMap.Data[EntryFile(0)]; ok {
		t.Error("an in-place restore carries entry files")
	}
}
