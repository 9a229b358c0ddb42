package neo4jreal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4jctl/neo4jctl/backup/crypt"
)

var update = flag.Bool("update", false, "rewrite testdata/admin-info-*.json from the real neo4j-admin")

// infoFixture is the real `neo4j-admin database info --format=json neo4j`
// output of a loaded dump, recorded by TestAdminDumpLoadCheckInfoRoundTrip
// -update, for packages (backup verify, restore) that parse it without a JVM.
const infoFixture = "testdata/admin-info-5.26.30.json"

// people is the data the round trip writes and reads back.
const writePeople = `UNWIND range(1, $n) AS i
CREATE (p:Person {id: i, name: 'person-' + toString(i)})
WITH collect(p) AS ps
UNWIND range(0, size(ps) - 2) AS j
WITH j, ps[j] AS a, ps[j + 1] AS b
CREATE (a)-[:KNOWS {since: 2000 + j}]->(b)`

const readPeople = `MATCH (p:Person) OPTIONAL MATCH (p)-[k:KNOWS]->(q:Person)
RETURN p.id AS id, p.name AS name, q.id AS knows, k.since AS since ORDER BY id`

func TestAdminDumpLoadCheckInfoRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two JVMs and runs neo4j-admin five times; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	// 1. Real data through Bolt.
	src := StartT(t, Options{Password: "dump-source-1"})
	if src == nil {
		return
	}
	if _, err := query(ctx, src, writePeople, map[string]any{"n": 300}); err != nil {
		t.Fatalf("write data: %v", err)
	}
	want, err := query(ctx, src, readPeople, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 300 {
		t.Fatalf("wrote %d people, want 300", len(want))
	}

	// 2. Stop the server, dump neo4j with the real neo4j-admin.
	if err := src.Shutdown(); err != nil {
		t.Fatal(err)
	}
	adm, err := src.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dumps := t.TempDir()
	dump, err := adm.Dump(ctx, "neo4j", dumps)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	st, err := os.Stat(dump)
	if err != nil || st.Size() == 0 {
		t.Fatalf("dump %s: stat %v, want a non-empty file", dump, err)
	}
	if got, want := filepath.Base(dump), "neo4j.dump"; got != want {
		t.Errorf("dump file: got %q, want %q", got, want)
	}
	t.Logf("dump %s: %d bytes", dump, st.Size())

	// 3. The dump goes through backup/crypt as the backup agent will send it
	// (encrypt, then authenticated decrypt into the load directory), so the
	// store loaded below comes from a decrypted real dump.
	restored := encryptDecrypt(t, dump)

	// 4. Load into a fresh scratch store; check; info.
	scratch := t.TempDir()
	loaded, err := NewAdmin(ctx, filepath.Join(scratch, "neo4j"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Load(ctx, "neo4j", restored, false); err != nil {
		t.Fatalf("load: %v", err)
	}
	res, err := loaded.Check(ctx, "neo4j", t.TempDir())
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if !res.Consistent {
		t.Fatalf("check of the loaded dump: inconsistent (report %s):\n%s", res.ReportPath, res.Report)
	}
	t.Logf("check passed in %s", res.Run.Duration)

	info, raw, err := loaded.Info(ctx, "neo4j")
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	t.Logf("info --format=json: %s", raw)
	checkInfo(t, info)
	checkInfoFixture(t, raw)

	// 5. A real Neo4j on the loaded store reads the same data back.
	dst := StartT(t, Options{Dir: scratch, Password: "dump-target-1"})
	got, err := query(ctx, dst, readPeople, nil)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data read back from the loaded dump differs (-written +read):\n%s", diff)
	}
	if err := dst.Shutdown(); err != nil {
		t.Fatal(err)
	}

	// 6. A deterministic corruption of a second loaded copy fails check.
	bad, err := NewAdmin(ctx, filepath.Join(t.TempDir(), "neo4j"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Load(ctx, "neo4j", dumps, false); err != nil {
		t.Fatalf("load second copy: %v", err)
	}
	file, err := CorruptPropertyStore(bad.Home, "neo4j")
	if err != nil {
		t.Fatal(err)
	}
	res, err = bad.Check(ctx, "neo4j", t.TempDir())
	if err != nil {
		t.Fatalf("check of the corrupted copy did not run to a report: %v", err)
	}
	if res.Consistent {
		t.Fatalf("check of a store whose %s page 0 was zeroed passed; it must fail", file)
	}
	if res.Run.ExitCode == 0 {
		t.Errorf("check found inconsistencies but exited 0")
	}
	if !strings.Contains(res.Report, "The referenced property record is not in use") {
		t.Errorf("report %s does not say the referenced property record is not in use:\n%s", res.ReportPath, tail(res.Report, 20))
	}
	t.Logf("corrupted %s page 0: check exit %d, report %s:\n%s", filepath.Base(file), res.Run.ExitCode, res.ReportPath, tail(res.Report, 12))
}

// encryptDecrypt encrypts the dump with a fresh keyset, decrypts it into a
// new directory as neo4j.dump and returns that directory, after checking
// the digests match the original file.
func encryptDecrypt(t *testing.T, dump string) string {
	t.Helper()
	keys, err := crypt.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	ad := crypt.AssociatedData("contract", "neo4j", "neo4j.dump")
	in, err := os.Open(dump)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var ct bytes.Buffer
	keyID, enc, err := keys.EncryptStream(&ct, in, ad)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dec, err := keys.DecryptFile(filepath.Join(dir, "neo4j.dump"), &ct, ad, crypt.DecryptOptions{KeyID: keyID})
	if err != nil {
		t.Fatalf("decrypt the encrypted dump: %v", err)
	}
	orig, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(orig)
	if want := hex.EncodeToString(sum[:]); enc.PlaintextSHA256 != want || dec.PlaintextSHA256 != want || dec.CiphertextSHA256 != enc.CiphertextSHA256 {
		t.Fatalf("digests: encrypt %+v, decrypt %+v, dump sha256 %s", enc, dec, want)
	}
	return dir
}

func checkInfo(t *testing.T, info *StoreInfo) {
	t.Helper()
	if info.DatabaseName != "neo4j" {
		t.Errorf("databaseName: got %q, want neo4j", info.DatabaseName)
	}
	if used, err := info.Used(); err != nil || used {
		t.Errorf("inUse: got %q (%v), want false", info.InUse, err)
	}
	if rec, err := info.NeedsRecovery(); err != nil || rec {
		t.Errorf("recoveryRequired: got %q (%v), want false", info.RecoveryRequired, err)
	}
	if tx, err := info.LastTxID(); err != nil || tx < 2 {
		t.Errorf("lastCommittedTransaction: got %q (%v), want a number ≥ 2 (data was written)", info.LastCommittedTransaction, err)
	}
	if !strings.HasPrefix(info.StoreFormat, "record-aligned-") {
		// Community 5.26 has no block format (Enterprise only).
		t.Errorf("storeFormat: got %q, want record-aligned-*", info.StoreFormat)
	}
}

// checkInfoFixture records raw (with -update) or checks that the real
// output still has the fixture's fields, each a string or null.
func checkInfoFixture(t *testing.T, raw []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(infoFixture), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(infoFixture, append(append([]byte{}, raw...), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	fixture, err := os.ReadFile(infoFixture)
	if err != nil {
		t.Fatalf("read %s (run with -update to record it): %v", infoFixture, err)
	}
	if diff := cmp.Diff(fieldKinds(t, fixture), fieldKinds(t, raw)); diff != "" {
		t.Errorf("neo4j-admin database info --format=json changed its fields (-%s +real):\n%s", infoFixture, diff)
	}
}

// fieldKinds maps each field of a one-object JSON document to "string" or
// "null" (the manual: "all values are strings").
func fieldKinds(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	var out []string
	for k, v := range m {
		kind := "other"
		switch v.(type) {
		case string:
			kind = "string"
		case nil:
			kind = "null"
		}
		out = append(out, k+":"+kind)
	}
	sort.Strings(out)
	return out
}

func query(ctx context.Context, s *Server, cypher string, params map[string]any) ([][]any, error) {
	d, err := neo4j.NewDriverWithContext(s.BoltURI, neo4j.BasicAuth(s.User, s.Password, ""))
	if err != nil {
		return nil, err
	}
	defer d.Close(ctx)
	res, err := neo4j.ExecuteQuery(ctx, d, cypher, params, neo4j.EagerResultTransformer,
		neo4j.ExecuteQueryWithDatabase("neo4j"))
	if err != nil {
		return nil, err
	}
	rows := make([][]any, 0, len(res.Records))
	for _, r := range res.Records {
		rows = append(rows, r.Values)
	}
	return rows, nil
}

func TestParseStoreInfo(t *testing.T) {
	// The manual's own example (tools/neo4j-admin/neo4j-admin-store-info.adoc,
	// "Invoke neo4j-admin database info against a database and output JSON").
	manual := `{"databaseName":"healthcare","inUse":"false","storeFormat":"block-block-1.1","storeFormatIntroduced":"5.14.0","storeFormatSuperseded":null,"lastCommittedTransaction":"29","recoveryRequired":"false"}`
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{name: "manual example", in: manual, want: 1},
		{name: "array", in: "[" + manual + "," + manual + "]", want: 2},
		{name: "one per line", in: manual + "\n" + manual + "\n", want: 2},
		{name: "unknown field", in: `{"databaseName":"x","nodes":"3"}`, wantErr: `unknown field "nodes"`},
		{name: "empty", in: "", wantErr: "no database"},
		{name: "not an object", in: `"neo4j"`, wantErr: "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStoreInfo([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("got %d infos, want %d", len(got), tt.want)
			}
			tx, err := got[0].LastTxID()
			if err != nil || tx != 29 || got[0].StoreFormatSuperseded != nil || got[0].DatabaseName != "healthcare" {
				t.Errorf("got %+v (tx %d, %v), want the manual's healthcare entry", got[0], tx, err)
			}
		})
	}
}

func TestParseStoreInfoFixture(t *testing.T) {
	raw, err := os.ReadFile(infoFixture)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseStoreInfo(raw)
	if err != nil {
		t.Fatalf("the recorded real output no longer parses: %v", err)
	}
	if len(got) != 1 || got[0].DatabaseName != "neo4j" {
		t.Errorf("got %+v, want one entry for neo4j", got)
	}
}

func TestCorruptPageIsDeterministicAndBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store")
	orig := make([]byte, 3*StorePageSize)
	for i := range orig {
		orig[i] = byte(i%251) + 1
	}
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CorruptPage(path, 1, StorePageSize); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	for i := range got {
		inPage := i >= StorePageSize && i < 2*StorePageSize
		if inPage && got[i] != 0 || !inPage && got[i] != orig[i] {
			t.Fatalf("byte %d: got %#x, want %s", i, got[i], map[bool]string{true: "0", false: "unchanged"}[inPage])
		}
	}
	if err := CorruptPage(path, 3, StorePageSize); err == nil {
		t.Error("corrupting a page past the end succeeded; it must fail")
	}
	if st, _ := os.Stat(path); st.Size() != int64(len(orig)) {
		t.Errorf("size changed to %d", st.Size())
	}
}
