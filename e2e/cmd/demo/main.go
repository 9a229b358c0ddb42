// Command demo is the embedded default behind `make demo`: it starts the
// local control plane (or attaches to one named by
// NEO4JCTL_TESTENV_KUBECONFIG), a Neo4j Enterprise simulator that follows
// the cluster's Pods, then runs the built neo4jctl as a user would — plan,
// apply, and plan again — on a cluster file, and stops everything.
//
//	demo [-neo4jctl bin/neo4jctl] [-f examples/quickstart.yaml] [-keep]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/neo4jctl/neo4jctl/e2e/harness"
	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
	"github.com/neo4jctl/neo4jctl/e2e/testenv"
	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("neo4jctl", "bin/neo4jctl", "the neo4jctl binary to run")
	file := flag.String("f", "examples/quickstart.yaml", "cluster file")
	keep := flag.Bool("keep", false, "keep the control plane and simulator running until Ctrl-C")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c, err := clusterfile.LoadFile(*file)
	if err != nil {
		return err
	}
	ns, err := c.Namespace("")
	if err != nil {
		return err
	}

	step("Starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)")
	start := time.Now()
	var env *testenv.Env
	if kc := os.Getenv(testenv.EnvKubeconfig); kc != "" {
		env, err = testenv.Attach(kc)
	} else {
		env, err = testenv.Start(ctx, testenv.Options{Build: true, Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "  "+f+"\n", a...) }})
		if err == nil {
			defer env.Stop()
		}
	}
	if err != nil {
		return err
	}
	fmt.Printf("  ready in %s — kubeconfig %s\n", time.Since(start).Round(time.Millisecond), env.Kubeconfig)

	password := randomPassword()
	step(fmt.Sprintf("Creating namespace %s and the Secret %s that %s references", ns, c.Spec.Auth.SecretRef.Name, filepath.Base(*file)))
	if err := harness.PrepareNamespace(ctx, env, c, ns, password); err != nil {
		return err
	}
	step("Starting the Neo4j simulator: it follows the StatefulSet's Pods and speaks Bolt to neo4jctl's port-forwards")
	sim, err := harness.StartSim(ctx, env, c, ns, password, neo4jsim.Config{})
	if err != nil {
		return err
	}
	defer sim.Close()

	kube := []string{"--kubeconfig", env.Kubeconfig}
	step("neo4jctl validate -f " + *file)
	if err := neo4jctl(ctx, *bin, append([]string{"validate", "-f", *file}, kube...)...); err != nil {
		return err
	}
	step("neo4jctl plan -f " + *file)
	if err := neo4jctl(ctx, *bin, append([]string{"plan", "-f", *file}, kube...)...); err != nil {
		return err
	}
	step("neo4jctl apply -f " + *file + " --auto-approve")
	if err := neo4jctl(ctx, *bin, append([]string{"apply", "-f", *file, "--auto-approve"}, kube...)...); err != nil {
		return err
	}
	step("What the Neo4j cluster reports now (SHOW SERVERS, as seen by the simulator)")
	servers := sim.Servers()
	sort.Slice(servers, func(i, j int) bool { return servers[i].Advertised < servers[j].Advertised })
	for _, s := range servers {
		fmt.Printf("  %-70s %-9s %s\n", s.Advertised, s.State, s.Health)
	}
	step("neo4jctl plan -f " + *file + " (again: nothing left to do)")
	if err := neo4jctl(ctx, *bin, append([]string{"plan", "-f", *file, "--detailed-exitcode"}, kube...)...); err != nil {
		return fmt.Errorf("the second plan is not empty: %w", err)
	}
	if errs := sim.Errs(); len(errs) > 0 {
		return fmt.Errorf("simulator: %v", errs)
	}
	if *keep {
		step("Running until Ctrl-C. Try: KUBECONFIG=" + env.Kubeconfig + " " + *bin + " plan -f " + *file)
		<-ctx.Done()
	}
	step("Done. Stopping the simulator and the control plane.")
	return nil
}

func step(msg string) { fmt.Printf("\n==> %s\n", msg) }

func neo4jctl(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	return cmd.Run()
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
