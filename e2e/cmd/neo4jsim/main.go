// Command neo4jsim runs the Neo4j cluster simulator (package e2e/neo4jsim)
// as a process, for end-to-end runs of the neo4jctl binary.
//
// It prints one line per server, "server <serverId> <advertised> <listen>",
// as servers start (and, when following a StatefulSet, as Pods join), then
// "ready", and runs until SIGTERM or SIGINT. The password comes from
// --password-file or $NEO4JSIM_PASSWORD, never from the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/neo4jctl/neo4jctl/e2e/neo4jsim"
)

// EnvPassword is the environment variable holding the password when
// --password-file is not given.
const EnvPassword = "NEO4JSIM_PASSWORD"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

type settingsFlag map[string]string

func (s settingsFlag) String() string { return fmt.Sprint(map[string]string(s)) }
func (s settingsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return errors.New("want name=value")
	}
	s[k] = val
	return nil
}

// run is main without the process globals, so tests can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("neo4jsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg          neo4jsim.Config
		advertise    string
		passwordFile string
		kubeconfig   string
		follow       neo4jsim.FollowOptions
		settings     = settingsFlag{}
		transition   time.Duration
	)
	fs.IntVar(&cfg.Servers, "servers", 3, "number of servers to start (0 when only following a StatefulSet)")
	fs.IntVar(&cfg.BasePort, "base-port", 0, "first listen port; server n listens on base-port+n (0: free ports)")
	fs.StringVar(&cfg.ListenHost, "listen-host", "127.0.0.1", "host to listen on")
	fs.StringVar(&cfg.User, "user", "neo4j", "user name")
	fs.StringVar(&passwordFile, "password-file", "", "file holding the password (default: $"+EnvPassword+")")
	fs.BoolVar(&cfg.Community, "community", false, "simulate a single Community Edition server")
	fs.StringVar(&cfg.Version, "neo4j-version", "5.26.0", "Neo4j version to report")
	fs.StringVar(&advertise, "advertise", "", "comma-separated advertised addresses of the initial servers")
	fs.Var(settings, "setting", "configuration setting name=value (repeatable)")
	fs.DurationVar(&transition, "transition-delay", 200*time.Millisecond, "time deallocation and store copies take")
	fs.IntVar(&cfg.DefaultPrimaries, "default-primaries", 1, "primaries of databases created without TOPOLOGY")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster whose StatefulSet to follow")
	fs.StringVar(&follow.Namespace, "namespace", "default", "namespace of the StatefulSet")
	fs.StringVar(&follow.StatefulSet, "statefulset", "", "StatefulSet whose Pods become servers")
	fs.IntVar(&follow.InitialMembers, "initial-members", 3, "Pods that form the cluster and are enabled automatically")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	password, err := readPassword(passwordFile, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "neo4jsim: %v\n", err)
		return 2
	}
	cfg.Password = password
	cfg.Settings = settings
	cfg.TransitionDelay = transition
	if transition == 0 {
		cfg.TransitionDelay = -1
	}
	if advertise != "" {
		cfg.Advertised = strings.Split(advertise, ",")
	}
	if cfg.Servers == 0 {
		cfg.Servers = -1 // the library reads 0 as "default"
	}

	sim, err := neo4jsim.Start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "neo4jsim: %v\n", err)
		return 1
	}
	defer sim.Close()

	var outMu sync.Mutex
	printServer := func(s neo4jsim.ServerInfo) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(stdout, "server %s %s %s\n", s.ID, s.Advertised, s.Listen)
	}
	for _, s := range sim.Servers() {
		printServer(s)
	}
	if follow.StatefulSet != "" {
		rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			fmt.Fprintf(stderr, "neo4jsim: kubeconfig: %v\n", err)
			return 1
		}
		follow.OnListen = func(_ *corev1.Pod, s neo4jsim.ServerInfo) { printServer(s) }
		if err := sim.FollowStatefulSet(ctx, rc, follow); err != nil {
			fmt.Fprintf(stderr, "neo4jsim: %v\n", err)
			return 1
		}
	}
	outMu.Lock()
	fmt.Fprintln(stdout, "ready")
	outMu.Unlock()
	<-ctx.Done()
	return 0
}

func readPassword(file string, getenv func(string) string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if pw := getenv(EnvPassword); pw != "" {
		return pw, nil
	}
	return "", fmt.Errorf("no password: pass --password-file or set $%s", EnvPassword)
}
