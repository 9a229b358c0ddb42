package neo4jreal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// adminMainClass is neo4j-admin's entry point. bin/neo4j-admin of a Neo4j
// distribution runs exactly this class; it ships in
// org.neo4j:neo4j-command-line, and the commands used here in neo4j-dbms
// (dump, load, info) and neo4j-consistency-check (check), all of which the
// launcher's classpath (org.neo4j:neo4j) already holds.
const adminMainClass = "org.neo4j.cli.AdminTool"

// adminJVMFlags are the JVM options for neo4j-admin: a small heap (the
// commands stream; the manual's HEAP_SIZE is the same knob, Operations
// Manual 5.26, tools/neo4j-admin/index.adoc "Environment variables") and the
// --add-opens the page cache wants for direct buffers.
var adminJVMFlags = []string{
	"-Xmx512m",
	"-XX:+UseSerialGC",
	"-Dlog4j2.disable.jmx=true",
	"--add-opens=java.base/java.nio=ALL-UNNAMED",
	"--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
	"--add-opens=java.base/java.lang=ALL-UNNAMED",
}

// Admin runs the real neo4j-admin of Neo4j Community 5.26 against one
// NEO4J_HOME. The Community commands it wraps need the DBMS of that home
// to be stopped (Operations Manual 5.26, backup-restore/offline-backup.adoc
// "Command": "On Community Edition, the command can be run only on an
// offline Neo4j DBMS"; the same for load in backup-restore/restore-dump.adoc).
type Admin struct {
	// Home is NEO4J_HOME: data/databases/<db> and data/transactions/<db>
	// live below it. It need not exist before a Load.
	Home string
	// Java runs the tool (17 or 21).
	Java *Java
	// Launcher provides the classpath.
	Launcher *Launcher
	// Log, if set, receives every command line and its output as it runs.
	Log io.Writer
}

// NewAdmin returns an Admin for home, building (or finding the cached)
// classpath as Start does. Missing prerequisites yield an *UnavailableError.
func NewAdmin(ctx context.Context, home string, opts Options) (*Admin, error) {
	java, err := FindJava(ctx, opts.Java)
	if err != nil {
		return nil, err
	}
	l, err := Build(ctx, opts)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return nil, err
	}
	return &Admin{Home: abs, Java: java, Launcher: l, Log: opts.Log}, nil
}

// AdminResult is one finished neo4j-admin run.
type AdminResult struct {
	// Args are the arguments after neo4j-admin, e.g. [database dump neo4j ...].
	Args []string
	// Stdout and Stderr are the captured streams.
	Stdout, Stderr string
	// ExitCode is the process's exit status (0 = success).
	ExitCode int
	// Duration is the wall time of the run, JVM start included.
	Duration time.Duration
}

// AdminError is a neo4j-admin run that exited non-zero.
type AdminError struct {
	Result *AdminResult
}

// Error implements error; it carries the last lines of the tool's output,
// which is where neo4j-admin says what went wrong.
func (e *AdminError) Error() string {
	out := strings.TrimSpace(e.Result.Stderr + "\n" + e.Result.Stdout)
	return fmt.Sprintf("neo4j-admin %s: exit %d:\n%s", strings.Join(e.Result.Args, " "), e.Result.ExitCode, tail(out, 15))
}

// Run runs neo4j-admin with args (e.g. "database", "info", "neo4j") and
// NEO4J_HOME=a.Home, in a.Home. A non-zero exit is an *AdminError that also
// holds the result; the result is returned in both cases.
func (a *Admin) Run(ctx context.Context, args ...string) (*AdminResult, error) {
	if err := os.MkdirAll(a.Home, 0o755); err != nil {
		return nil, err
	}
	cmdArgs := append(append([]string{}, adminJVMFlags...), "-cp", a.Launcher.Classpath, adminMainClass)
	cmdArgs = append(cmdArgs, args...)
	cmd := exec.CommandContext(ctx, a.Java.Path, cmdArgs...)
	// NEO4J_HOME is how neo4j-admin finds its data (tools/neo4j-admin/index.adoc,
	// "Environment variables"); NEO4J_CONF defaults to $NEO4J_HOME/conf, which
	// we leave absent so every setting is its default. A caller's NEO4J_CONF
	// or HEAP_SIZE must not leak in.
	env := withoutEnv(withoutEnv(withoutEnv(os.Environ(), "NEO4J_HOME"), "NEO4J_CONF"), "HEAP_SIZE")
	cmd.Env = append(env, "NEO4J_HOME="+a.Home, "JAVA_HOME="+a.Java.Home)
	cmd.Dir = a.Home
	var stdout, stderr bytes.Buffer
	var ow, ew io.Writer = &stdout, &stderr
	if a.Log != nil {
		fmt.Fprintf(a.Log, "neo4j-admin %s (NEO4J_HOME=%s)\n", strings.Join(args, " "), a.Home)
		ow, ew = io.MultiWriter(&stdout, a.Log), io.MultiWriter(&stderr, a.Log)
	}
	cmd.Stdout, cmd.Stderr = ow, ew
	start := time.Now()
	err := cmd.Run()
	res := &AdminResult{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && ctx.Err() == nil {
			res.ExitCode = exit.ExitCode()
			return res, &AdminError{Result: res}
		}
		return res, fmt.Errorf("neo4j-admin %s: %w", strings.Join(args, " "), err)
	}
	return res, nil
}

// Dump runs `neo4j-admin database dump <database> --to-path=<toDir>` and
// returns the path of the archive it wrote, <toDir>/<database>.dump
// (Operations Manual 5.26, backup-restore/offline-backup.adoc, "Syntax" and
// "Options": --to-path is a directory, the file is named <database>.dump;
// --overwrite-destination defaults to false, so an existing dump is an error).
// toDir is created if missing.
func (a *Admin) Dump(ctx context.Context, database, toDir string) (string, error) {
	if err := os.MkdirAll(toDir, 0o700); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(toDir)
	if err != nil {
		return "", err
	}
	if _, err := a.Run(ctx, "database", "dump", database, "--to-path="+abs); err != nil {
		return "", err
	}
	path := filepath.Join(abs, database+".dump")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("neo4j-admin database dump succeeded but wrote no %s: %w", path, err)
	}
	return path, nil
}

// Load runs `neo4j-admin database load <database> --from-path=<fromDir>`
// (plus --overwrite-destination=true when overwrite): it loads
// <fromDir>/<database>.dump into a.Home (Operations Manual 5.26,
// backup-restore/restore-dump.adoc, "Syntax", "Options" and the tip "The
// command looks for a file called <database>.dump").
func (a *Admin) Load(ctx context.Context, database, fromDir string, overwrite bool) error {
	abs, err := filepath.Abs(fromDir)
	if err != nil {
		return err
	}
	args := []string{"database", "load", database, "--from-path=" + abs}
	if overwrite {
		args = append(args, "--overwrite-destination=true")
	}
	_, err = a.Run(ctx, args...)
	return err
}

// CheckResult is the outcome of a consistency check that ran to the end.
type CheckResult struct {
	// Consistent is true when neo4j-admin exited 0 and wrote no report.
	Consistent bool
	// ReportPath is the inconsistencies-*.report file when not Consistent.
	ReportPath string
	// Report is the report's text (the first 64 KiB) when not Consistent.
	Report string
	// Run is the neo4j-admin run.
	Run *AdminResult
}

// Check runs `neo4j-admin database check <database>
// --report-path=<reportDir> --max-off-heap-memory=64m --threads=2` on the
// store in a.Home.
//
// Operations Manual 5.26, tools/neo4j-admin/consistency-checker.adoc,
// "Options" and "Output": no errors → exit 0 and no report; errors → a
// non-zero exit and a report named inconsistencies-YYYY-MM-DD.HH24.MI.SS.report
// in --report-path. So an inconsistent store is a CheckResult with
// Consistent=false and a nil error, while a run that failed without a
// report (bad arguments, a locked store) is an error. The off-heap cap and
// thread count keep the tool small on a shared CI machine (the default is
// 90% of free memory and every CPU).
func (a *Admin) Check(ctx context.Context, database, reportDir string) (*CheckResult, error) {
	if err := os.MkdirAll(reportDir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(reportDir)
	if err != nil {
		return nil, err
	}
	before, _ := filepath.Glob(filepath.Join(abs, "inconsistencies-*.report"))
	res, runErr := a.Run(ctx, "database", "check", database,
		"--report-path="+abs, "--max-off-heap-memory=64m", "--threads=2")
	after, _ := filepath.Glob(filepath.Join(abs, "inconsistencies-*.report"))
	report := newest(after, before)
	var adminErr *AdminError
	switch {
	case runErr == nil && report == "":
		return &CheckResult{Consistent: true, Run: res}, nil
	case report != "" && (runErr == nil || errors.As(runErr, &adminErr)):
		text, err := readHead(report, 64*1024)
		if err != nil {
			return nil, err
		}
		if runErr == nil {
			// The manual promises a non-zero exit with a report; say so if not.
			return nil, fmt.Errorf("neo4j-admin database check exited 0 but wrote %s", report)
		}
		return &CheckResult{ReportPath: report, Report: text, Run: res}, nil
	default:
		return nil, runErr
	}
}

// newest returns a path in after that is not in before (the report a run
// just wrote), or "".
func newest(after, before []string) string {
	seen := map[string]bool{}
	for _, p := range before {
		seen[p] = true
	}
	for i := len(after) - 1; i >= 0; i-- {
		if !seen[after[i]] {
			return after[i]
		}
	}
	return ""
}

func readHead(path string, n int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, n))
	return string(b), err
}

// StoreInfo is one object of `neo4j-admin database info --format=json`.
//
// The manual (Operations Manual 5.26, tools/neo4j-admin/neo4j-admin-store-info.adoc,
// "Invoke neo4j-admin database info against a database and output JSON")
// says "All the same fields are included and all values are strings", with
// storeFormatSuperseded null when there is none; the real 5.26.30 output,
// recorded in testdata/admin-info-5.26.30.json, matches: seven fields,
// strings or null. The typed accessors below parse the strings.
type StoreInfo struct {
	DatabaseName             string  `json:"databaseName"`
	InUse                    string  `json:"inUse"`
	StoreFormat              string  `json:"storeFormat"`
	StoreFormatIntroduced    string  `json:"storeFormatIntroduced"`
	StoreFormatSuperseded    *string `json:"storeFormatSuperseded"`
	LastCommittedTransaction string  `json:"lastCommittedTransaction"`
	RecoveryRequired         string  `json:"recoveryRequired"`
}

// LastTxID parses LastCommittedTransaction.
func (i StoreInfo) LastTxID() (int64, error) {
	return strconv.ParseInt(i.LastCommittedTransaction, 10, 64)
}

// NeedsRecovery parses RecoveryRequired.
func (i StoreInfo) NeedsRecovery() (bool, error) { return strconv.ParseBool(i.RecoveryRequired) }

// Used parses InUse.
func (i StoreInfo) Used() (bool, error) { return strconv.ParseBool(i.InUse) }

// Info runs `neo4j-admin database info --format=json <database>` and
// parses its output (Operations Manual 5.26,
// tools/neo4j-admin/neo4j-admin-store-info.adoc, "Syntax" and "Options").
// It returns the raw stdout too, for callers that record it.
func (a *Admin) Info(ctx context.Context, database string) (*StoreInfo, []byte, error) {
	res, err := a.Run(ctx, "database", "info", "--format=json", database)
	if err != nil {
		return nil, nil, err
	}
	raw := []byte(strings.TrimSpace(res.Stdout))
	info, err := ParseStoreInfo(raw)
	if err != nil {
		return nil, raw, err
	}
	if len(info) != 1 {
		return nil, raw, fmt.Errorf("neo4j-admin database info %s: got %d databases, want 1", database, len(info))
	}
	return &info[0], raw, nil
}

// ParseStoreInfo parses the JSON output of `neo4j-admin database info
// --format=json`: one object per database, as a single object (one
// database, as 5.26.30 prints it), a JSON array, or objects one per line.
// Unknown fields are rejected, so a release that changes the layout fails
// loudly here rather than silently dropping a field.
func ParseStoreInfo(raw []byte) ([]StoreInfo, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var out []StoreInfo
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("neo4j-admin database info output: %w", err)
		}
		switch tok {
		case json.Delim('['), json.Delim(']'):
			continue
		case json.Delim('{'):
		default:
			return nil, fmt.Errorf("neo4j-admin database info output: unexpected %v", tok)
		}
		// Token consumed the '{'; decode the rest of the object field by field.
		var info StoreInfo
		if err := decodeObjectBody(dec, &info); err != nil {
			return nil, fmt.Errorf("neo4j-admin database info output: %w", err)
		}
		out = append(out, info)
	}
	if len(out) == 0 {
		return nil, errors.New("neo4j-admin database info output: no database in it")
	}
	return out, nil
}

// decodeObjectBody reads "key": value pairs up to the closing brace into
// info, rejecting unknown keys.
func decodeObjectBody(dec *json.Decoder, info *StoreInfo) error {
	fields := map[string]any{
		"databaseName":             &info.DatabaseName,
		"inUse":                    &info.InUse,
		"storeFormat":              &info.StoreFormat,
		"storeFormatIntroduced":    &info.StoreFormatIntroduced,
		"storeFormatSuperseded":    &info.StoreFormatSuperseded,
		"lastCommittedTransaction": &info.LastCommittedTransaction,
		"recoveryRequired":         &info.RecoveryRequired,
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("unexpected %v", tok)
		}
		dst, ok := fields[key]
		if !ok {
			return fmt.Errorf("unknown field %q (neo4j-admin changed its layout?)", key)
		}
		if err := dec.Decode(dst); err != nil {
			return fmt.Errorf("field %s: %w", key, err)
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// Admin returns an Admin for the server's home. The server must be stopped
// first (Shutdown): Community's dump/load/check refuse a store a running
// DBMS holds.
func (s *Server) Admin(ctx context.Context) (*Admin, error) {
	if s.Running() {
		return nil, errors.New("neo4jreal: Admin needs the server stopped (call Shutdown first): Community's neo4j-admin works only on an offline DBMS")
	}
	java := s.java
	if java == nil {
		var err error
		if java, err = FindJava(ctx, ""); err != nil {
			return nil, err
		}
	}
	return &Admin{Home: s.Home(), Java: java, Launcher: s.Launcher}, nil
}

// Home returns the server's NEO4J_HOME (Dir/neo4j), the directory
// neo4j-admin works on.
func (s *Server) Home() string { return filepath.Join(s.Dir, "neo4j") }

// StoreFile returns the path of a store file of database under home,
// e.g. StoreFile(home, "neo4j", "neostore.propertystore.db").
func StoreFile(home, database, name string) string {
	return filepath.Join(home, "data", "databases", database, name)
}

// CorruptPage overwrites page `page` (pageSize bytes) of the file at path
// with a fixed pattern (0x00): deterministic, so a test that corrupts the
// same store twice gets the same damage. The file must already hold that
// page; nothing is appended.
func CorruptPage(path string, page, pageSize int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	off := page * pageSize
	if off+pageSize > st.Size() {
		return fmt.Errorf("corrupt %s: page %d (bytes %d..%d) is past the end (%d bytes)", path, page, off, off+pageSize, st.Size())
	}
	if _, err := f.WriteAt(make([]byte, pageSize), off); err != nil {
		return err
	}
	return f.Sync()
}

// StorePageSize is the page size of Community's record-aligned store files
// (8 KiB: the page cache's page; the record files grow in whole pages, as
// the 8192-byte store files of a fresh store show).
const StorePageSize = 8192

// CorruptPropertyStore zeroes the first page of database's property store
// (neostore.propertystore.db) under home and returns the file's path.
//
// Why check must notice: in the record format the property store holds the
// property records that node and relationship records point at (a node's
// nextProp is the id of its first property record). The first 8 KiB page
// holds records 0.. (41 bytes each, about 200 of them), the first ones ever
// allocated, so every entity created with properties in a small store
// points into it. A zeroed record has its in-use bit clear, so each such
// node's property chain now starts at a record that is not in use, which
// the consistency checker reports as an inconsistency (5.26.30's report:
// "ERROR The referenced property record is not in use."; graph checks are
// on by default, Operations
// Manual 5.26 tools/neo4j-admin/consistency-checker.adoc, --check-graph
// default true). Record-format files carry no checksums, so nothing but the
// checker can notice it; the database must have at least one entity with a
// property.
func CorruptPropertyStore(home, database string) (string, error) {
	path := StoreFile(home, database, "neostore.propertystore.db")
	return path, CorruptPage(path, 0, StorePageSize)
}
