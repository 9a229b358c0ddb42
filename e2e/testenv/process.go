package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a component gets to exit after SIGTERM before it is
// killed.
const stopGrace = 15 * time.Second

// component is one running process, recorded in the state file so another
// process (the `testenv down` command) can stop it by PID.
type component struct {
	Name string   `json:"name"`
	PID  int      `json:"pid"`
	Exe  string   `json:"exe"`
	Args []string `json:"args"`
	Log  string   `json:"log"`

	// done is closed when this process's own exec.Cmd has been waited for;
	// nil for a process started by another program (an attached env).
	done chan struct{}
	err  error
}

// startProcess runs exe with args, appending stdout and stderr to logPath.
// Detached processes get their own session so they outlive the starter (the
// `testenv up` command); the others are killed by the kernel if the test
// binary dies, so a crashed or timed-out `go test` leaves nothing behind.
func startProcess(name, exe string, args []string, logPath string, detach bool) (*component, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd := exec.Command(exe, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = os.Environ()
	if detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &component{Name: name, PID: cmd.Process.Pid, Exe: exe, Args: args, Log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended, with its wait error when
// this program started it.
func (p *component) exited() (bool, error) {
	if p.done != nil {
		select {
		case <-p.done:
			return true, p.err
		default:
			return false, nil
		}
	}
	return !p.alive(), nil
}

// alive reports whether PID still runs the recorded binary. A PID that now
// belongs to another program (PIDs are reused) or a zombie counts as gone:
// PID 1 on these machines reaps orphans slowly.
func (p *component) alive() bool {
	if p.PID <= 0 {
		return false
	}
	if p.done != nil {
		select {
		case <-p.done:
			return false
		default:
		}
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
	if err != nil {
		return false
	}
	if !sameExe(exe, p.Exe) {
		return false
	}
	return procState(p.PID) != 'Z'
}

// sameExe compares /proc/PID/exe with the recorded path; the kernel appends
// " (deleted)" when the binary was replaced (for example by a rebuild).
func sameExe(procExe, recorded string) bool {
	procExe = strings.TrimSuffix(procExe, " (deleted)")
	if procExe == recorded {
		return true
	}
	resolved, err := filepath.EvalSymlinks(recorded)
	return err == nil && resolved == procExe
}

// procState returns the state letter of /proc/PID/stat, or 0 if unreadable.
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return parseStatState(b)
}

// parseStatState extracts the state field from a /proc/PID/stat line. The
// command name in parentheses may itself contain spaces or parentheses, so
// the state is found after the last ')'.
func parseStatState(stat []byte) byte {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return 0
	}
	return stat[i+2]
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs. It never signals a
// PID that no longer runs the recorded binary.
func (p *component) stop(grace time.Duration) error {
	return p.stopWhen(grace, nil)
}

// stopWhen is stop with a shortcut: once finished reports true, the
// process gets a moment to flush and is then killed without waiting out
// grace. kube-apiserver needs it: after SIGTERM it stops listening at once
// but then waits 60 s for clients' watch connections to go idle.
func (p *component) stopWhen(grace time.Duration, finished func() bool) error {
	if !p.alive() {
		return nil
	}
	if err := syscall.Kill(p.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s (pid %d): %w", p.Name, p.PID, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if p.waitGone(50 * time.Millisecond) {
			return nil
		}
		if finished != nil && finished() {
			if p.waitGone(300 * time.Millisecond) {
				return nil
			}
			break
		}
	}
	if p.alive() {
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
	}
	if !p.waitGone(5 * time.Second) {
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.Name, p.PID)
	}
	return nil
}

func (p *component) waitGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !p.alive() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		if p.done != nil {
			select {
			case <-p.done:
				return true
			case <-time.After(20 * time.Millisecond):
			}
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// rssBytes returns the resident set size of the process, 0 if unknown.
func (p *component) rssBytes() int64 {
	if !p.alive() {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// logTail returns the last n lines of a component log, for error messages.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
