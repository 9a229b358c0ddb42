package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/testenv"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		os.Exit(1)
	}
}

const usage = "usage: testenv up|down|env|status [-dir DIR] (see -h of each)"

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("testenv "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", filepath.Join(os.TempDir(), "neo4jctl-testenv"), "environment directory (kubeconfig, state.json, logs)")
	switch args[0] {
	case "up":
		nodes := fs.Int("nodes", 3, "number of fake kwok Nodes")
		build := fs.Bool("build", true, "run e2e/testenv/build.sh if binaries are missing (≈ 9 min cold)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return up(*dir, *nodes, *build, stdout, stderr)
	case "down":
		rm := fs.Bool("rm", false, "also remove DIR (logs included)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return down(*dir, *rm)
	case "env":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		kc := filepath.Join(*dir, "kubeconfig")
		if _, err := os.Stat(filepath.Join(*dir, testenv.StateFile)); err != nil {
			return fmt.Errorf("no environment in %s: run `testenv up -dir %s`", *dir, *dir)
		}
		fmt.Fprintf(stdout, "export %s=%s\n", testenv.EnvKubeconfig, kc)
		return nil
	case "status":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return status(*dir, stdout)
	default:
		return errors.New(usage)
	}
}

func up(dir string, nodes int, build bool, stdout, stderr io.Writer) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := prepareDir(dir); err != nil {
		return err
	}
	// Ctrl-C during a long build or start must not leave half an
	// environment behind: Start stops what it started when ctx ends.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	begin := time.Now()
	env, err := testenv.Start(ctx, testenv.Options{
		Dir:    dir,
		Build:  build,
		Nodes:  nodes,
		Detach: true,
		Logf:   func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "testenv: up in %s; stop with `testenv down -dir %s`\n", time.Since(begin).Round(time.Millisecond), dir)
	fmt.Fprintf(stdout, "export %s=%s\n", testenv.EnvKubeconfig, env.Kubeconfig)
	return nil
}

// prepareDir refuses to start over a running environment or inside a
// directory that is not ours, and clears a stopped environment's leftovers.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, testenv.StateFile)); err != nil {
		return fmt.Errorf("%s is not empty and holds no %s: pick another -dir", dir, testenv.StateFile)
	}
	env, err := testenv.Attach(filepath.Join(dir, "kubeconfig"))
	if err == nil && len(env.Running()) > 0 {
		return fmt.Errorf("an environment is already running in %s: `testenv down -dir %s` first", dir, dir)
	}
	return os.RemoveAll(dir)
}

func down(dir string, rm bool) error {
	if _, err := os.Stat(filepath.Join(dir, testenv.StateFile)); err != nil {
		return fmt.Errorf("no environment in %s", dir)
	}
	env, err := testenv.Attach(filepath.Join(dir, "kubeconfig"))
	if err != nil {
		return err
	}
	if err := env.Stop(); err != nil {
		return err
	}
	if rm {
		return os.RemoveAll(dir)
	}
	return nil
}

func status(dir string, stdout io.Writer) error {
	env, err := testenv.Attach(filepath.Join(dir, "kubeconfig"))
	if err != nil {
		return err
	}
	running := env.Running()
	rss := env.MemoryRSS()
	names := make([]string, 0, len(rss))
	for n := range rss {
		names = append(names, n)
	}
	sort.Strings(names)
	var total int64
	for _, n := range names {
		state := "stopped"
		if pid, ok := running[n]; ok {
			state = fmt.Sprintf("pid %d", pid)
		}
		fmt.Fprintf(stdout, "%-24s %-12s %6.0f MiB\n", n, state, float64(rss[n])/(1<<20))
		total += rss[n]
	}
	fmt.Fprintf(stdout, "%-24s %-12s %6.0f MiB\n", "total", "", float64(total)/(1<<20))
	fmt.Fprintf(stdout, "kubeconfig %s\nhost %s\n", env.Kubeconfig, env.Host)
	return nil
}
