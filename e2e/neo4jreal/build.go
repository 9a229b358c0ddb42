package neo4jreal

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RequireEnv names the environment variable that, set to 1, turns a missing
// prerequisite (java, mvn, Maven Central) from a skip into a test failure.
const RequireEnv = "NEO4JCTL_REQUIRE_REAL_NEO4J"

// UnavailableError reports that a prerequisite of the real server is missing
// on this machine. Tests skip on it (loudly) rather than fail, unless
// RequireEnv is set.
type UnavailableError struct {
	// Missing names exactly what is missing, e.g. "java 17 or 21 (found: java 25 at /usr/bin/java)".
	Missing string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *UnavailableError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("real Neo4j unavailable: %s: %v", e.Missing, e.Err)
	}
	return "real Neo4j unavailable: " + e.Missing
}

// Unwrap returns the underlying error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Launcher is a built launcher: what java needs to run it.
type Launcher struct {
	// Classpath is the launcher's classes directory followed by every
	// dependency jar in the local Maven repository.
	Classpath string
	// Dir is the cache directory the build lives in.
	Dir string
	// Built reports whether this call ran Maven (false: the cache was used).
	Built bool
	// Duration is how long finding or building took.
	Duration time.Duration
}

// mainClass is the launcher's entry point (launcher/src/main/java/...).
const mainClass = "neo4jctl.neo4jreal.Launcher"

// DefaultCacheDir returns ${XDG_CACHE_HOME:-~/.cache}/neo4jctl/neo4jreal.
func DefaultCacheDir() (string, error) {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cache dir: %w", err)
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "neo4jctl", "neo4jreal"), nil
}

// LauncherSourceDir finds the launcher's Maven project: $NEO4JREAL_LAUNCHER_DIR,
// else next to this source file (go test compiles in place), else
// e2e/neo4jreal/launcher under the module root above the working directory.
func LauncherSourceDir() (string, error) {
	if d := os.Getenv("NEO4JREAL_LAUNCHER_DIR"); d != "" {
		return d, nil
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		d := filepath.Join(filepath.Dir(file), "launcher")
		if fileExists(filepath.Join(d, "pom.xml")) {
			return d, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) {
			l := filepath.Join(d, "e2e", "neo4jreal", "launcher")
			if fileExists(filepath.Join(l, "pom.xml")) {
				return l, nil
			}
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", errors.New("launcher sources (e2e/neo4jreal/launcher/pom.xml) not found; set NEO4JREAL_LAUNCHER_DIR")
}

// Build returns the launcher, building it with Maven unless a build of the
// same sources is cached (and every jar it names is still in the local Maven
// repository). Concurrent callers, in this or other processes, serialise on a
// lock file so only one runs Maven.
func Build(ctx context.Context, opts Options) (*Launcher, error) {
	start := time.Now()
	src, err := LauncherSourceDir()
	if err != nil {
		return nil, err
	}
	cache := opts.CacheDir
	if cache == "" {
		if cache, err = DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	key, err := hashTree(src)
	if err != nil {
		return nil, fmt.Errorf("hash launcher sources: %w", err)
	}
	dir := filepath.Join(cache, key[:16])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if l, ok := cachedLauncher(dir); ok {
		l.Duration = time.Since(start)
		return l, nil
	}

	lock, err := os.OpenFile(filepath.Join(cache, "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it anyway
	// Another process may have built it while we waited for the lock.
	if l, ok := cachedLauncher(dir); ok {
		l.Duration = time.Since(start)
		return l, nil
	}

	java, err := FindJava(ctx, opts.Java)
	if err != nil {
		return nil, err
	}
	mvn := opts.Maven
	if mvn == "" {
		mvn = "mvn"
	}
	mvnPath, err := exec.LookPath(mvn)
	if err != nil {
		return nil, &UnavailableError{Missing: "mvn (Apache Maven) on PATH", Err: err}
	}

	timeout := opts.BuildTimeout
	if timeout == 0 {
		timeout = 30 * time.Minute
	}
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := filepath.Join(dir, "target")
	cmd := exec.CommandContext(bctx, mvnPath, "-q", "-B",
		"-f", filepath.Join(src, "pom.xml"),
		"-Dneo4jreal.buildDir="+target,
		"-Dneo4jreal.classpathFile="+filepath.Join(dir, "classpath.txt"),
		"package")
	// Maven runs on the JDK the server will run on: javac --release 17 needs
	// nothing newer, and a JAVA_HOME pointing at an unsupported JDK must not leak in.
	cmd.Env = append(os.Environ(), "JAVA_HOME="+java.Home)
	var out bytes.Buffer
	w := io.Writer(&out)
	if opts.Log != nil {
		w = io.MultiWriter(&out, opts.Log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		if bctx.Err() != nil {
			return nil, fmt.Errorf("mvn package timed out after %s:\n%s", timeout, tail(out.String(), 40))
		}
		if offline := mavenOffline(out.String()); offline != "" {
			return nil, &UnavailableError{Missing: "Maven Central (" + offline + ")", Err: err}
		}
		return nil, fmt.Errorf("mvn package in %s: %w\n%s", src, err, tail(out.String(), 40))
	}
	if err := os.WriteFile(filepath.Join(dir, "stamp"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return nil, err
	}
	l, ok := cachedLauncher(dir)
	if !ok {
		return nil, fmt.Errorf("mvn package succeeded but %s has no usable classpath.txt", dir)
	}
	l.Built = true
	l.Duration = time.Since(start)
	return l, nil
}

// cachedLauncher returns the launcher in dir when its build finished and
// every classpath entry still exists (a wiped ~/.m2 forces a rebuild).
func cachedLauncher(dir string) (*Launcher, bool) {
	if !fileExists(filepath.Join(dir, "stamp")) {
		return nil, false
	}
	raw, err := os.ReadFile(filepath.Join(dir, "classpath.txt"))
	if err != nil {
		return nil, false
	}
	classes := filepath.Join(dir, "target", "classes")
	if !fileExists(filepath.Join(classes, "neo4jctl", "neo4jreal", "Launcher.class")) {
		return nil, false
	}
	deps := strings.TrimSpace(string(raw))
	for _, jar := range filepath.SplitList(deps) {
		if !fileExists(jar) {
			return nil, false
		}
	}
	return &Launcher{Classpath: classes + string(os.PathListSeparator) + deps, Dir: dir}, true
}

// offlineMarkers are what Maven prints when it cannot reach a repository, as
// opposed to a broken build, which must fail rather than skip.
var offlineMarkers = []string{
	"UnknownHostException",
	"Temporary failure in name resolution",
	"Network is unreachable",
	"Connection refused",
	"Connect timed out",
	"connect timed out",
	"No route to host",
	"Could not transfer artifact",
	"in offline mode",
}

func mavenOffline(out string) string {
	for _, m := range offlineMarkers {
		if strings.Contains(out, m) {
			return "unreachable: " + m
		}
	}
	return ""
}

// Java is a JDK found on this machine.
type Java struct {
	// Path is the java executable.
	Path string
	// Home is the JDK directory (Path without bin/java).
	Home string
	// Major is the feature version, e.g. 17.
	Major int
}

// supportedJava lists the Java versions Neo4j 5.26 LTS supports.
var supportedJava = map[int]bool{17: true, 21: true}

// FindJava returns the first supported JDK among: explicit (if set),
// $NEO4JREAL_JAVA, $JAVA_HOME/bin/java, java on PATH, /usr/lib/jvm/*/bin/java.
// The search goes on past an unsupported one because CI may point JAVA_HOME
// at a newer JDK that other parts of the build need.
func FindJava(ctx context.Context, explicit string) (*Java, error) {
	var cands []string
	for _, c := range []string{explicit, os.Getenv("NEO4JREAL_JAVA")} {
		if c != "" {
			cands = append(cands, c)
		}
	}
	if h := os.Getenv("JAVA_HOME"); h != "" {
		cands = append(cands, filepath.Join(h, "bin", "java"))
	}
	if p, err := exec.LookPath("java"); err == nil {
		cands = append(cands, p)
	}
	jvms, _ := filepath.Glob("/usr/lib/jvm/*/bin/java")
	sort.Strings(jvms)
	cands = append(cands, jvms...)

	var seen []string
	for _, c := range cands {
		real, err := filepath.EvalSymlinks(c)
		if err != nil {
			continue
		}
		major, err := javaMajor(ctx, real)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		if supportedJava[major] {
			return &Java{Path: real, Home: filepath.Dir(filepath.Dir(real)), Major: major}, nil
		}
		seen = append(seen, fmt.Sprintf("java %d at %s", major, c))
	}
	found := "none"
	if len(seen) > 0 {
		found = strings.Join(seen, "; ")
	}
	return nil, &UnavailableError{Missing: "java 17 or 21 (found: " + found + ")"}
}

var javaVersionRE = regexp.MustCompile(`version "(\d+)(?:\.(\d+))?`)

func javaMajor(ctx context.Context, java string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, java, "-version").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("java -version: %w", err)
	}
	m := javaVersionRE.FindStringSubmatch(string(out))
	if m == nil {
		return 0, fmt.Errorf("java -version: unrecognised output %q", firstLine(string(out)))
	}
	major, _ := strconv.Atoi(m[1])
	if major == 1 && m[2] != "" { // "1.8.0_x" style
		major, _ = strconv.Atoi(m[2])
	}
	return major, nil
}

// hashTree hashes every regular file under dir except build output, so an
// edit to the pom or the Java source selects a fresh cache directory.
func hashTree(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "target" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
