package clusterfile

// Defaults that Default fills in. They are exported so that docs, examples
// and renderers can name them rather than repeat the values.
const (
	DefaultImagePullPolicy = "IfNotPresent"
	// DefaultSystemPrimaries is the upper bound of the defaulted system
	// primary count: three tolerate one failure, and Neo4j's own
	// dbms.cluster.minimum_initial_system_primaries_count is 3.
	DefaultSystemPrimaries = 3
	DefaultSecretKey       = "password"
	DefaultDataSize        = "10Gi"
	DefaultLogsSize        = "1Gi"
	DefaultRetention       = "Retain"
	// DefaultCPURequest and DefaultMemory size a small server. Memory
	// limits equal requests: a JVM whose heap and page cache are sized
	// from its limit must not be evicted or OOM-killed for using memory it
	// was promised. No CPU limit is set by default: CPU throttling stalls
	// garbage collection and Raft heartbeats, which costs leadership.
	DefaultCPURequest       = "1"
	DefaultMemory           = "2Gi"
	DefaultInitCPURequest   = "100m"
	DefaultInitMemory       = "256Mi"
	DefaultAntiAffinity     = "preferred"
	DefaultMaxSkew          = 1
	DefaultWhenUnsatisfied  = "ScheduleAnyway"
	DefaultPodSecurity      = "restricted"
	DefaultMetricsPort      = 2004
	DefaultScrapeInterval   = "30s"
	DefaultServiceType      = "ClusterIP"
	DefaultModeConstraint   = "NONE"
	DefaultDatabaseAccess   = "read-write"
	DefaultIssuerKind       = "Issuer"
	DefaultDatabasePrimary  = 1
	communityStandaloneSize = 1
)

// DefaultTLSScopes are the SSL policies enabled when TLS is configured
// without scopes: the client-facing ones. Cluster and backup traffic stay
// inside the NetworkPolicy unless the owner asks for more.
var DefaultTLSScopes = []string{"bolt", "https"}

// Image returns the Docker Hub image for a Neo4j version and edition,
// following the official image's tag convention ("5.26.0-enterprise";
// the bare version is Community).
func Image(version string, edition Edition) string {
	if edition == EditionEnterprise {
		return "neo4j:" + version + "-enterprise"
	}
	return "neo4j:" + version
}

// Default fills in everything the owner may leave out. It only sets empty
// fields, so it is idempotent and never overrides what the file says; it
// leaves invalid values for Validate to report.
func Default(c *Cluster) {
	s := &c.Spec
	if s.Image == "" && s.Version != "" && (s.Edition == EditionEnterprise || s.Edition == EditionCommunity) {
		s.Image = Image(s.Version, s.Edition)
	}
	if s.ImagePullPolicy == "" {
		s.ImagePullPolicy = DefaultImagePullPolicy
	}
	switch s.Edition {
	case EditionCommunity:
		if s.Servers == 0 {
			s.Servers = communityStandaloneSize
		}
	case EditionEnterprise:
		// Servers has no default: how many machines a cluster costs is the
		// owner's decision. Without servers there is no system primary count
		// to derive, and Validate reports the missing servers instead.
		if s.SystemPrimaries == 0 && s.Servers > 0 {
			s.SystemPrimaries = min(s.Servers, DefaultSystemPrimaries)
		}
		if s.ModeConstraint == "" {
			s.ModeConstraint = DefaultModeConstraint
		}
		for i := range s.ServerPools {
			if s.ServerPools[i].ModeConstraint == "" {
				s.ServerPools[i].ModeConstraint = DefaultModeConstraint
			}
		}
	}

	defaultContainer(&s.Resources.Neo4j, DefaultCPURequest, DefaultMemory)
	defaultContainer(&s.Resources.Init, DefaultInitCPURequest, DefaultInitMemory)
	for i := range s.ServerPools {
		// A pool without resources inherits the main pool's (manifests
		// reads a nil Resources that way); one with resources inherits
		// what it leaves out.
		if r := s.ServerPools[i].Resources; r != nil {
			inherit(&r.Neo4j, s.Resources.Neo4j)
			inherit(&r.Init, s.Resources.Init)
		}
	}

	defaultString(&s.Storage.Data.Size, DefaultDataSize)
	if s.Layout != LayoutHelm {
		// The chart keeps logs on the data volume; an adopted cluster's
		// StatefulSets cannot gain a claim template.
		defaultString(&s.Storage.Logs.Size, DefaultLogsSize)
	}
	defaultString(&s.Storage.Retention.WhenScaled, DefaultRetention)
	defaultString(&s.Storage.Retention.WhenDeleted, DefaultRetention)

	if s.Auth.SecretRef != nil {
		defaultString(&s.Auth.SecretRef.Key, DefaultSecretKey)
	}
	if s.TLS != nil {
		if len(s.TLS.Scopes) == 0 {
			s.TLS.Scopes = append([]string(nil), DefaultTLSScopes...)
		}
		if s.TLS.CertManager != nil {
			defaultString(&s.TLS.CertManager.IssuerRef.Kind, DefaultIssuerKind)
		}
	}

	for i := range s.Databases {
		db := &s.Databases[i]
		if db.Topology.Primaries == 0 {
			db.Topology.Primaries = DefaultDatabasePrimary
		}
		defaultString(&db.Access, DefaultDatabaseAccess)
	}

	defaultString(&s.Scheduling.AntiAffinity, DefaultAntiAffinity)
	if s.Layout != LayoutHelm { // the chart's Pod template is kept as it is
		if s.Scheduling.TopologySpread == nil {
			s.Scheduling.TopologySpread = &TopologySpread{}
		}
		if s.Scheduling.TopologySpread.MaxSkew == 0 {
			s.Scheduling.TopologySpread.MaxSkew = DefaultMaxSkew
		}
		defaultString(&s.Scheduling.TopologySpread.WhenUnsatisfiable, DefaultWhenUnsatisfied)
	}
	for i := range s.Scheduling.Tolerations {
		defaultString(&s.Scheduling.Tolerations[i].Operator, "Equal")
	}

	defaultString(&s.Security.PodSecurity, DefaultPodSecurity)
	if s.Security.NetworkPolicy.Enabled == nil {
		enabled := true
		s.Security.NetworkPolicy.Enabled = &enabled
	}

	// Monitoring details are only filled in when monitoring is on, so that
	// a cluster without it shows no port or interval that does nothing.
	if s.Monitoring.Metrics.Enabled && s.Monitoring.Metrics.Port == 0 {
		s.Monitoring.Metrics.Port = DefaultMetricsPort
	}
	if s.Monitoring.ServiceMonitor.Enabled {
		defaultString(&s.Monitoring.ServiceMonitor.Interval, DefaultScrapeInterval)
	}

	defaultString(&s.Services.Client.Type, DefaultServiceType)
	defaultBackups(s.Backups)
}

// defaultContainer follows Kubernetes: a request left out takes the limit
// when there is one; with neither, the defaults apply. The memory limit
// then follows the memory request (see DefaultMemory).
func defaultContainer(r *ContainerResources, cpu, memory string) {
	defaultString(&r.Requests.CPU, r.Limits.CPU)
	defaultString(&r.Requests.CPU, cpu)
	defaultString(&r.Requests.Memory, r.Limits.Memory)
	defaultString(&r.Requests.Memory, memory)
	defaultString(&r.Limits.Memory, r.Requests.Memory)
}

// inherit fills what a pool's container resources leave out from the main
// pool's, then applies the same request/limit pairing as defaultContainer.
func inherit(r *ContainerResources, from ContainerResources) {
	if r.Requests.CPU == "" && r.Limits.CPU == "" {
		r.Requests.CPU, r.Limits.CPU = from.Requests.CPU, from.Limits.CPU
	}
	if r.Requests.Memory == "" && r.Limits.Memory == "" {
		r.Requests.Memory, r.Limits.Memory = from.Requests.Memory, from.Limits.Memory
	}
	defaultContainer(r, from.Requests.CPU, from.Requests.Memory)
}

func defaultString(s *string, v string) {
	if *s == "" {
		*s = v
	}
}
