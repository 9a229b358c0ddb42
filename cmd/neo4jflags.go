package cmd

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/neo4jctl/neo4jctl/internal/kube"
	"github.com/neo4jctl/neo4jctl/internal/pipeline"
)

// clusterFlags are the flags shared by commands that observe a live
// cluster: how to reach Kubernetes faster than client-go's defaults and how
// to reach Neo4j. No flag carries a password.
type clusterFlags struct {
	QPS           float32
	Burst         int
	Workers       int
	Neo4jURI      string
	Neo4jUser     string
	Neo4jPassFile string
	Neo4jCAFile   string
	// Neo4jInsecure accepts unverified Bolt certificates; a safety gate
	// (command line only, see commandLineOnly).
	Neo4jInsecure bool
	Neo4jDirect   bool
	SkipNeo4j     bool
	// SkipBackupCheck leaves out an upgrade's backup pre-flight; a
	// safety gate (command line only, see commandLineOnly).
	SkipBackupCheck bool
	ConnectTimeout  time.Duration
	ObserveTimeout  time.Duration
	WriteTimeout    time.Duration
}

// defaultWriteTimeout is how long one Neo4j write may take. The slowest
// statement apply sends, CREATE DATABASE, answers once the database is
// allocated, not once it is online (apply waits for that separately), and
// DEALLOCATE once the reallocation is planned: seconds, even on a busy
// cluster. Two minutes leaves room for a leader election while bounding
// how long a write that never answers holds the Lease.
const defaultWriteTimeout = 2 * time.Minute

func (c *clusterFlags) add(fs *pflag.FlagSet) {
	fs.Float32Var(&c.QPS, "kube-qps", kube.DefaultQPS, "requests per second to the Kubernetes API server (client-go's default of 5 makes fleet plans crawl)")
	fs.IntVar(&c.Burst, "kube-burst", kube.DefaultBurst, "request burst to the Kubernetes API server")
	fs.IntVar(&c.Workers, "kube-workers", kube.DefaultWorkers, "requests to the Kubernetes API server in flight at once per cluster (dry runs, reads)")
	fs.StringVar(&c.Neo4jURI, "neo4j-uri", "", "Neo4j URI (bolt://, neo4j://, +s; +ssc needs --"+insecureSkipTLSVerifyFlag+"); default: the client Service inside the cluster, else a port-forward to a server Pod")
	fs.StringVar(&c.Neo4jUser, "neo4j-user", "neo4j", "Neo4j user")
	fs.StringVar(&c.Neo4jPassFile, "neo4j-password-file", "", "file holding the Neo4j password (default: "+pipeline.PasswordEnv+", else the Secret in spec.auth.secretRef)")
	fs.StringVar(&c.Neo4jCAFile, "neo4j-ca-file", "", "PEM CA certificates that sign the servers' Bolt certificates (default: ca.crt of the cluster's TLS Secret, which cert-manager fills)")
	fs.BoolVar(&c.Neo4jInsecure, insecureSkipTLSVerifyFlag, false, "encrypt Bolt without verifying the servers' certificates (not recommended: anyone on the path can read the password); prints a warning")
	fs.BoolVar(&c.Neo4jDirect, "neo4j-direct", false, "dial the addresses Neo4j advertises as they are instead of port-forwarding to Pods")
	fs.BoolVar(&c.SkipNeo4j, "skip-neo4j", false, "do not observe Neo4j: plan the Kubernetes plane only")
	fs.BoolVar(&c.SkipBackupCheck, "skip-backup-check", false, "upgrade without the pre-flight's recent-backup check (printed in the plan)")
	fs.DurationVar(&c.ConnectTimeout, "neo4j-connect-timeout", 10*time.Second, "timeout for opening a Neo4j connection")
	fs.DurationVar(&c.ObserveTimeout, "neo4j-timeout", time.Minute, "timeout for reading the Neo4j plane (SHOW SERVERS, SHOW DATABASES, settings)")
	fs.DurationVar(&c.WriteTimeout, "neo4j-write-timeout", defaultWriteTimeout, "deadline of each Neo4j write (ENABLE, DEALLOCATE, DROP SERVER, CREATE DATABASE…); a write past it fails, and may still take effect: its outcome is unknown")
}

// kubeClient builds the Kubernetes client from kubectl's flags.
func (c *clusterFlags) kubeClient(f *Factory) (*kube.Client, error) {
	return kube.New(f.KubeFlags, kube.Options{QPS: c.QPS, Burst: c.Burst, Workers: c.Workers, UserAgent: "neo4jctl/" + f.Build.Version})
}

const insecureSkipTLSVerifyFlag = "neo4j-insecure-skip-tls-verify"

// unverifiedTLSWarning is printed on stderr, once per run, when a Bolt
// connection will not verify the server's certificate.
const unverifiedTLSWarning = "Warning: --" + insecureSkipTLSVerifyFlag + ": the Neo4j servers' TLS certificates are not verified; anyone on the path can read the password and the traffic. Pass --neo4j-ca-file instead.\n"

// neo4jAccess turns the flags into a pipeline.Neo4jAccess. errOut receives
// the warning about unverified certificates, once however many clusters
// and connections follow.
func (c *clusterFlags) neo4jAccess(errOut io.Writer) (pipeline.Neo4jAccess, error) {
	a := pipeline.Neo4jAccess{
		URI: c.Neo4jURI, Username: c.Neo4jUser, PasswordFile: c.Neo4jPassFile,
		InCluster: pipeline.InClusterFromEnv() && c.Neo4jURI == "", Direct: c.Neo4jDirect,
		ConnectTimeout: c.ConnectTimeout, ObserveTimeout: c.ObserveTimeout, WriteTimeout: c.WriteTimeout,
		InsecureSkipTLSVerify: c.Neo4jInsecure,
	}
	if c.Neo4jInsecure {
		var once sync.Once
		a.OnUnverifiedTLS = func() { once.Do(func() { fmt.Fprint(errOut, unverifiedTLSWarning) }) }
	}
	if c.Neo4jCAFile != "" {
		b, err := os.ReadFile(c.Neo4jCAFile)
		if err != nil {
			return a, fmt.Errorf("--neo4j-ca-file: %w", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(b) {
			return a, fmt.Errorf("--neo4j-ca-file: %s holds no PEM certificate", c.Neo4jCAFile)
		}
		a.CACertPEM = b
	}
	return a, nil
}
