// Command rsswrap runs one command and reports what the kernel measured of
// it — its wall time, CPU time and peak resident set size — on file
// descriptor 3, as one line: "<wall ns> <user ns> <system ns> <maxrss KiB>".
// Its exit code is the command's (128+signal when a signal ended it).
//
//	rsswrap BIN [ARG...]   (fd 3 open for writing)
//
// Why it exists: Go starts a child with vfork (CLONE_VM), and at exec Linux
// carries the peak RSS of the address space the child leaves — the parent's
// — into the child's ru_maxrss (exec_mmap → setmax_mm_hiwater_rss). A child
// of the benchmark, whose heap holds every measurement, would report the
// benchmark's own peak. The command measured here is the child of this
// small process instead, whose peak (a couple of MiB) is the floor of the
// figure. It imports only the standard library, to stay small.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rsswrap BIN [ARG...] (fd 3: the figures)")
		os.Exit(2)
	}
	report := os.NewFile(3, "report")
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	case err != nil:
		fmt.Fprintln(os.Stderr, "rsswrap:", err)
		os.Exit(127)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "rsswrap: no rusage")
		os.Exit(127)
	}
	if report != nil {
		fmt.Fprintf(report, "%d %d %d %d\n", wall.Nanoseconds(), syscall.TimevalToNsec(ru.Utime), syscall.TimevalToNsec(ru.Stime), ru.Maxrss)
		report.Close()
	}
	os.Exit(code)
}
