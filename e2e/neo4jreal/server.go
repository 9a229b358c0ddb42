package neo4jreal

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configures Build and Start. The zero value is ready to use.
type Options struct {
	// Dir is the server's home directory. Empty means a fresh temporary
	// directory that Stop removes.
	Dir string
	// Password is the initial password of the neo4j user (at least 8
	// characters). Empty means a random one.
	Password string
	// Java is the java executable; empty means FindJava's search.
	Java string
	// Maven is the mvn executable; empty means mvn on PATH.
	Maven string
	// CacheDir holds launcher builds; empty means DefaultCacheDir.
	CacheDir string
	// BuildTimeout bounds the Maven build (default 30 min: a cold
	// download of ~130 MB of jars is slow through some proxies).
	BuildTimeout time.Duration
	// StartTimeout bounds the wait for READY (default 3 min).
	StartTimeout time.Duration
	// Log, if set, receives Maven's and the server's output as it happens.
	// The server's output also goes to launcher.log in Dir.
	Log io.Writer
}

// Server is a running real Neo4j Community server.
type Server struct {
	// BoltURI is bolt://127.0.0.1:PORT (no routing: a standalone server).
	BoltURI string
	// User is the admin user, always "neo4j".
	User string
	// Password is the neo4j user's password.
	Password string
	// Version and Edition are what dbms.components() reports, e.g. 5.26.30, community.
	Version string
	Edition string
	// Dir is the server's home directory.
	Dir string
	// Launcher is the build it runs.
	Launcher *Launcher
	// StartDuration is the time from starting java to READY.
	StartDuration time.Duration

	java    *Java
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	tempDir bool
	exited  chan struct{}
	waitErr error
	logFile *os.File
	halt    sync.Once
	stop    sync.Once
	stopErr error
}

// jvmFlags are the JVM options Neo4j's own start script passes that matter
// embedded: Netty and the page cache reach into java.nio internals.
var jvmFlags = []string{
	"-Xmx1g",
	"-XX:+UseG1GC",
	"-XX:-OmitStackTraceInFastThrow",
	"-Dio.netty.tryReflectionSetAccessible=true",
	"-Djdk.nio.maxCachedBufferSize=1024",
	"-Dlog4j2.disable.jmx=true",
	"--add-opens=java.base/java.nio=ALL-UNNAMED",
	"--add-opens=java.base/java.io=ALL-UNNAMED",
	"--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
	"--add-opens=java.base/java.lang=ALL-UNNAMED",
}

// Start builds the launcher if needed, starts the server and waits until it
// accepts Bolt logins with s.Password. The caller must call Stop. A missing
// java, mvn or Maven Central yields an *UnavailableError.
func Start(ctx context.Context, opts Options) (*Server, error) {
	java, err := FindJava(ctx, opts.Java)
	if err != nil {
		return nil, err
	}
	l, err := Build(ctx, opts)
	if err != nil {
		return nil, err
	}
	s := &Server{User: "neo4j", Password: opts.Password, Dir: opts.Dir, Launcher: l, java: java, exited: make(chan struct{})}
	if s.Password == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		s.Password = "pw-" + hex.EncodeToString(b)
	}
	if len(s.Password) < 8 || strings.ContainsAny(s.Password, "\r\n") {
		return nil, errors.New("neo4jreal: password must be one line of at least 8 characters")
	}
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "neo4jreal-"); err != nil {
			return nil, err
		}
		s.tempDir = true
	}
	if s.logFile, err = os.Create(filepath.Join(s.Dir, "launcher.log")); err != nil {
		s.cleanupDir()
		return nil, err
	}

	args := append(append([]string{}, jvmFlags...),
		"-cp", l.Classpath, mainClass, "--home", filepath.Join(s.Dir, "neo4j"), "--port", "0")
	// Not CommandContext: ctx bounds the start, not the server's life.
	s.cmd = exec.Command(java.Path, args...)
	s.cmd.Env = withoutEnv(os.Environ(), "NEO4JREAL_PASSWORD")
	s.cmd.Dir = s.Dir
	logw := io.Writer(s.logFile)
	if opts.Log != nil {
		logw = io.MultiWriter(s.logFile, opts.Log)
	}
	s.cmd.Stderr = logw
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, s.abort(err)
	}
	// The password travels over stdin, never argv (world-readable in /proc);
	// stdin then stays open, and closing it is the launcher's shutdown signal.
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		return nil, s.abort(err)
	}
	// The start timeout counts from here: waiting for a slot is not the
	// server being slow.
	release, err := acquireStartSlot(ctx)
	if err != nil {
		return nil, s.abort(err)
	}
	defer release()
	started := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, s.abort(fmt.Errorf("start %s: %w", java.Path, err))
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if _, err := io.WriteString(s.stdin, s.Password+"\n"); err != nil {
		return nil, s.abort(fmt.Errorf("send password: %w", err))
	}

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logw, "stdout: "+line)
			if strings.HasPrefix(line, "READY ") || strings.HasPrefix(line, "FAILED ") {
				select {
				case ready <- line:
				default:
				}
			}
		}
		close(ready)
	}()

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var line string
	select {
	case line = <-ready:
	case <-timer.C:
		return nil, s.abort(fmt.Errorf("no READY within %s", timeout))
	case <-ctx.Done():
		return nil, s.abort(ctx.Err())
	}
	if !strings.HasPrefix(line, "READY ") {
		if line == "" {
			<-s.exited
			return nil, s.abort(fmt.Errorf("launcher exited before READY: %v", s.waitErr))
		}
		return nil, s.abort(errors.New(strings.TrimPrefix(line, "FAILED ")))
	}
	s.StartDuration = time.Since(started)
	fields := strings.Fields(line)
	s.BoltURI = fields[1]
	for _, f := range fields[2:] {
		if k, v, ok := strings.Cut(f, "="); ok {
			switch k {
			case "version":
				s.Version = v
			case "edition":
				s.Edition = v
			}
		}
	}
	return s, nil
}

// abort stops a half-started server and adds the launcher's log to err.
func (s *Server) abort(err error) error {
	s.Stop() //nolint:errcheck // err is what matters
	log, _ := os.ReadFile(filepath.Join(s.Dir, "launcher.log"))
	return fmt.Errorf("neo4jreal: %w\nlauncher log (last lines):\n%s", err, tail(string(log), 40))
}

// Stop shuts the server down (see Shutdown) and removes the home
// directory if Start created it. Safe to call more than once.
func (s *Server) Stop() error {
	s.Shutdown() //nolint:errcheck // Shutdown reports nothing Stop does not
	s.stop.Do(s.cleanupDir)
	return s.stopErr
}

// Shutdown stops the server process but keeps its home directory, so
// neo4j-admin can work on the stopped store (Admin): close stdin (the
// launcher's clean-shutdown signal), then SIGTERM after 30 s, then SIGKILL
// after 15 s more. Safe to call more than once; Stop still removes a
// temporary home afterwards.
func (s *Server) Shutdown() error {
	s.halt.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			if s.stdin != nil {
				s.stdin.Close()
			}
			select {
			case <-s.exited:
			case <-time.After(30 * time.Second):
				s.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have just exited
				select {
				case <-s.exited:
				case <-time.After(15 * time.Second):
					s.cmd.Process.Kill() //nolint:errcheck // same
					<-s.exited
				}
			}
		}
		if s.logFile != nil {
			s.logFile.Close()
		}
	})
	return nil
}

// Running reports whether the server process is still alive.
func (s *Server) Running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return s.cmd != nil && s.cmd.Process != nil
	}
}

func (s *Server) cleanupDir() {
	if s.tempDir && s.Dir != "" {
		if err := os.RemoveAll(s.Dir); err != nil {
			s.stopErr = err
		}
	}
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, name+"=") {
			out = append(out, e)
		}
	}
	return out
}
