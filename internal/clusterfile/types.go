package clusterfile

// APIVersion and Kind identify a cluster file. The schema is versioned: a
// later v1beta1 gets its own types and a conversion, v1alpha1 files keep
// loading.
const (
	APIVersion = "neo4jctl.io/v1alpha1"
	Kind       = "Neo4jCluster"
)

// Cluster is one Neo4j cluster as its owner declares it.
type Cluster struct {
	APIVersion string   `json:"apiVersion" jsonschema:"required,enum=neo4jctl.io/v1alpha1"`
	Kind       string   `json:"kind" jsonschema:"required,enum=Neo4jCluster"`
	Metadata   Metadata `json:"metadata" jsonschema:"required"`
	Spec       Spec     `json:"spec" jsonschema:"required"`

	// Source records where each field was written when the cluster came
	// from Load, so that later errors and GitHub annotations can point at
	// the file and line (see LineOf). It is nil for a Cluster built in code
	// and never serialised.
	Source *Source `json:"-"`
}

// Metadata names the cluster. Name becomes the StatefulSet's name and the
// value of the neo4jctl.io/cluster label.
type Metadata struct {
	Name        string            `json:"name" jsonschema:"required"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Edition is the Neo4j edition.
type Edition string

// Editions neo4jctl deploys.
const (
	EditionEnterprise Edition = "enterprise"
	EditionCommunity  Edition = "community"
)

// Spec is the desired state of the cluster in both planes.
type Spec struct {
	// Edition decides whether cluster commands exist at all (Community runs
	// one standalone server).
	Edition Edition `json:"edition" jsonschema:"required,enum=enterprise,enum=community"`
	// Version is the Neo4j version, e.g. "5.26.0" or "2025.10.1".
	Version string `json:"version" jsonschema:"required"`
	// Image overrides the image derived from Version and Edition. Pin it by
	// digest (neo4j:5.26.0-enterprise@sha256:…, or a mirror's
	// registry/neo4j@sha256:…) so every server runs the same bytes.
	Image            string   `json:"image,omitempty"`
	ImagePullPolicy  string   `json:"imagePullPolicy,omitempty" jsonschema:"enum=Always,enum=IfNotPresent,enum=Never"`
	ImagePullSecrets []string `json:"imagePullSecrets,omitempty"`
	// AcceptLicenseAgreement must be "yes" (commercial licence) or "eval"
	// for Enterprise: Neo4j Enterprise refuses to start without it, and
	// neo4jctl will not accept it on the owner's behalf.
	AcceptLicenseAgreement string `json:"acceptLicenseAgreement,omitempty" jsonschema:"enum=yes,enum=eval"`

	// Servers is the number of servers in the main pool (the StatefulSet's
	// replicas). Enterprise clusters need at least 3 unless
	// AllowSmallCluster is set; Community is always 1.
	Servers           int32 `json:"servers" jsonschema:"minimum=1"`
	AllowSmallCluster bool  `json:"allowSmallCluster,omitempty"`
	// SystemPrimaries is how many servers host the system database as
	// primaries: the first SystemPrimaries servers of the main pool (Pods
	// 0 to SystemPrimaries-1) run with server.cluster.system_database_mode
	// PRIMARY, every later server and every other pool with SECONDARY, and
	// a new cluster forms once that many are up
	// (dbms.cluster.minimum_initial_system_primaries_count). Default:
	// min(servers, 3). Scaling in removes the highest ordinals, which are
	// system secondaries while servers stays at or above SystemPrimaries.
	SystemPrimaries int32 `json:"systemPrimaries,omitempty" jsonschema:"minimum=1,maximum=11"`
	// ModeConstraint and Tags are the ENABLE SERVER options of the main pool.
	ModeConstraint string   `json:"modeConstraint,omitempty" jsonschema:"enum=NONE,enum=PRIMARY,enum=SECONDARY"`
	Tags           []string `json:"tags,omitempty"`
	// ServerPools are additional StatefulSets, e.g. a pool of secondaries.
	ServerPools []ServerPool `json:"serverPools,omitempty"`

	// Layout is how the servers' Kubernetes objects are laid out: neo4jctl
	// (the default: one StatefulSet per pool, neo4jctl's names) or helm, a
	// cluster adopted from the official Neo4j Helm chart by neo4jctl
	// import: one single-replica StatefulSet per release, with the chart's
	// names, selectors, Services, claims and Pod template kept as they are
	// (docs/import.md).
	Layout string `json:"layout,omitempty" jsonschema:"enum=neo4jctl,enum=helm"`
	// HelmReleases are the adopted releases, one per server in server
	// order; layout: helm only. import writes them.
	HelmReleases []HelmRelease `json:"helmReleases,omitempty"`

	Resources Resources `json:"resources,omitempty"`
	Storage   Storage   `json:"storage,omitempty"`
	Auth      Auth      `json:"auth" jsonschema:"required"`
	TLS       *TLS      `json:"tls,omitempty"`

	// Config holds neo4j.conf settings, rendered into a ConfigMap.
	Config    map[string]string `json:"config,omitempty" clusterfile:"rawscalars"`
	Plugins   []string          `json:"plugins,omitempty" jsonschema:"uniqueItems=true,enum=apoc,enum=apoc-extended,enum=graph-data-science,enum=bloom,enum=genai,enum=n10s"`
	Databases []Database        `json:"databases,omitempty"`

	Scheduling Scheduling   `json:"scheduling,omitempty"`
	Security   Security     `json:"security,omitempty"`
	Monitoring Monitoring   `json:"monitoring,omitempty"`
	Probes     *Probes      `json:"probes,omitempty"`  // Probes are the thresholds of the Neo4j container's probes; what they ask is neo4jctl's (docs/probes.md).
	Upgrade    *UpgradeSpec `json:"upgrade,omitempty"` // Upgrade tunes version upgrades: the backup age the pre-flight asks for (spec.upgrade.maxBackupAge).
	Services   Services     `json:"services,omitempty"`

	// Pod and ServiceAccount add annotations and labels to the servers'
	// Pods and their ServiceAccount, e.g. for cloud workload identity.
	// Keys neo4jctl sets or relies on are refused.
	Pod            *PodMeta        `json:"pod,omitempty"`
	ServiceAccount *ServiceAccount `json:"serviceAccount,omitempty"`
	// ExtraEnv adds environment variables to the Neo4j container. The
	// image turns NEO4J_<setting> variables into neo4j.conf settings, so
	// a credential setting can come from a Secret (valueFrom.secretKeyRef).
	ExtraEnv []EnvVar `json:"extraEnv,omitempty"`
	// ExtraVolumes are mounted into the Neo4j container (and may be mounted
	// by sidecars); they cannot cover a path neo4jctl mounts.
	ExtraVolumes []ExtraVolume `json:"extraVolumes,omitempty"`
	// Sidecars run beside Neo4j in every server Pod, under the same
	// restricted security context neo4jctl gives its own containers.
	Sidecars []Sidecar `json:"sidecars,omitempty"`

	// Ignore lists differences plan, apply and drift leave alone: fields
	// another controller owns (an autoscaler's replicas, an injected
	// sidecar). The exit codes honour them.
	Ignore []IgnoreRule `json:"ignore,omitempty"`

	// Policies are compliance rules on Neo4j settings and rendered fields.
	// validate and plan check them against the desired state, drift and
	// watch against the live state; each violation carries its severity.
	Policies []PolicyRule `json:"policies,omitempty"`

	// Backups turns on encrypted, catalogued backups to object storage
	// (docs/backups.md).
	Backups *Backups `json:"backups,omitempty"`
}

// Backups is where backups go, when they are taken, how long they are
// kept, how they are encrypted and where they are copied. Every artifact
// is encrypted before it leaves the cluster and catalogued in the bucket.
type Backups struct {
	// Storage is the bucket (and prefix) backups are written to.
	Storage BackupLocation `json:"storage" jsonschema:"required"`
	// Schedule says when backups run (full and differential cron
	// schedules) and of which databases.
	Schedule *BackupSchedule `json:"schedule,omitempty"`
	// Retention is the grandfather-father-son policy pruning applies; it
	// never deletes a full backup a kept differential depends on, nor the
	// newest verified backup. Without it every backup is kept.
	Retention *BackupRetention `json:"retention,omitempty"`
	// Encryption names the Tink keyset that encrypts every artifact
	// (AES256_GCM_HKDF_1MB streaming AEAD).
	Encryption BackupEncryption `json:"encryption" jsonschema:"required"`
	// Copies are other buckets (other regions or providers) each artifact
	// is copied to after its upload, its digest checked at the destination.
	Copies []BackupLocation `json:"copies,omitempty"`
	// ChainVolume is the claim that keeps each database's current chain
	// between runs, so that differential backups stay differential.
	ChainVolume *Volume `json:"chainVolume,omitempty"`
	// Objectives are the recovery point and time objectives backups are
	// judged against, e.g. rpo: 6h, rto: 1h.
	Objectives *BackupObjectives `json:"objectives,omitempty"`
	// Verification restores backups on a schedule to prove they can be
	// restored.
	Verification *BackupVerification `json:"verification,omitempty"`
	// Drill is how often a DR drill (neo4jctl dr drill) is expected to
	// run: healthcheck's backup.drill and watch's drill alerts judge the
	// drill records against it (docs/restore.md).
	Drill *BackupDrill `json:"drill,omitempty"`
}

// BackupLocation is one bucket: a URL and how to authenticate to it.
// Credentials never appear in the file: they come from a Secret or from
// the cloud's workload identity.
type BackupLocation struct {
	// URL is s3://bucket/prefix?region=…&endpoint=…, gs://bucket/prefix,
	// azblob://container/prefix or file:///absolute/path.
	URL string `json:"url" jsonschema:"required"`
	// CredentialsSecret names a Secret in the cluster's namespace holding
	// the provider's credentials under these keys: AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY (optionally AWS_SESSION_TOKEN);
	// GOOGLE_CREDENTIALS_JSON, a service account's JSON key;
	// AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or
	// AZURE_STORAGE_SAS_TOKEN, or AZURE_STORAGE_CONNECTION_STRING.
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
	// WorkloadIdentity says the backup Pods authenticate as their
	// ServiceAccount (IRSA, GKE or Azure workload identity; annotate it
	// with spec.serviceAccount.annotations) instead of a Secret.
	WorkloadIdentity bool `json:"workloadIdentity,omitempty"`
}

// BackupSchedule is when backups run, as Kubernetes CronJob schedules.
type BackupSchedule struct {
	// Full is the cron schedule of full backups, e.g. "0 2 * * *".
	Full string `json:"full,omitempty"`
	// Differential is the cron schedule of differential backups, e.g.
	// "0 */6 * * *" (Enterprise only); each extends the current chain.
	Differential string `json:"differential,omitempty"`
	// TimeZone is the IANA time zone the schedules are read in (the
	// CronJob's timeZone); default UTC.
	TimeZone string `json:"timeZone,omitempty"`
	// Databases are the databases backed up: ["*"] (the default) is every
	// database, system included.
	Databases []string `json:"databases,omitempty"`
	// Compress asks neo4j-admin for compressed artifacts (default true).
	Compress *bool `json:"compress,omitempty"`
}

// BackupRetention is a grandfather-father-son policy: the newest backup
// of each of the last Daily days, Weekly weeks, Monthly months and Yearly
// years is kept (with the differentials and full its chain needs), and so
// is every backup younger than MinAge; nothing older than MaxAge is kept.
type BackupRetention struct {
	Daily   *int32 `json:"daily,omitempty" jsonschema:"minimum=0"`
	Weekly  *int32 `json:"weekly,omitempty" jsonschema:"minimum=0"`
	Monthly *int32 `json:"monthly,omitempty" jsonschema:"minimum=0"`
	Yearly  *int32 `json:"yearly,omitempty" jsonschema:"minimum=0"`
	// MinAge keeps every backup younger than this, whatever the counts:
	// a duration in m, h, d (days), w (weeks) or y (365 days), e.g. 7d.
	MinAge string `json:"minAge,omitempty"`
	// MaxAge deletes backups older than this, whatever the counts (never
	// the newest verified backup), e.g. 1y.
	MaxAge string `json:"maxAge,omitempty"`
	// Databases override the policy for single databases; a field left
	// out takes the value above.
	Databases []DatabaseRetention `json:"databases,omitempty"`
}

// DatabaseRetention overrides the retention policy of one database; the
// fields mean what they mean in BackupRetention.
type DatabaseRetention struct {
	Name    string `json:"name" jsonschema:"required"`
	Daily   *int32 `json:"daily,omitempty" jsonschema:"minimum=0"`
	Weekly  *int32 `json:"weekly,omitempty" jsonschema:"minimum=0"`
	Monthly *int32 `json:"monthly,omitempty" jsonschema:"minimum=0"`
	Yearly  *int32 `json:"yearly,omitempty" jsonschema:"minimum=0"`
	MinAge  string `json:"minAge,omitempty"`
	MaxAge  string `json:"maxAge,omitempty"`
}

// BackupEncryption names the keyset that encrypts backups.
type BackupEncryption struct {
	// KeysetSecret is the Secret key holding the Tink keyset (JSON; made
	// by neo4jctl backup keys rotate); key defaults to keyset.json.
	KeysetSecret SecretKeyRef `json:"keysetSecret" jsonschema:"required"`
	// KMS is the URI of a KMS key that wraps the keyset, e.g.
	// aws-kms://arn:aws:kms:… or gcp-kms://projects/…; without it the
	// keyset in the Secret is in clear text.
	KMS string `json:"kms,omitempty"`
}

// BackupObjectives are the recovery objectives, as durations (30m, 6h, 1d).
type BackupObjectives struct {
	// RPO is the most data, in time, a restore may lose: the newest backup
	// must never be older.
	RPO string `json:"rpo,omitempty"`
	// RTO is how long a restore may take.
	RTO string `json:"rto,omitempty"`
}

// BackupVerification restores backups on a schedule into a scratch
// server and checks them.
type BackupVerification struct {
	// Schedule is the cron schedule of verification runs.
	Schedule string `json:"schedule,omitempty"`
}

// BackupDrill is the DR drill's schedule.
type BackupDrill struct {
	// Schedule is the cron schedule drills run on (read in
	// spec.backups.schedule.timeZone), e.g. "0 5 * * 1": a drill that
	// has not passed within two of its periods is a WARN and an alert.
	Schedule string `json:"schedule" jsonschema:"required"`
}

// PolicyRule is one compliance rule. Its target is either a Neo4j setting
// (Setting) or a field of the rendered objects of one kind (Kind and
// JSONPointer); its checks are any of Min, Max, Equals, OneOf, Regex and
// Required, all of which must hold.
type PolicyRule struct {
	// Name identifies the rule in reports; unique within its list.
	Name string `json:"name" jsonschema:"required"`
	// Severity is info, warning, error (the default) or critical; CI fails
	// on violations at or above the severity it chooses (--fail-on).
	Severity string `json:"severity,omitempty" jsonschema:"enum=info,enum=warning,enum=error,enum=critical"`
	// Description says why the rule exists; it is shown with violations.
	Description string `json:"description,omitempty"`

	// Setting is a neo4j.conf setting, e.g. server.memory.heap.max_size.
	Setting string `json:"setting,omitempty"`
	// Kind selects the rendered objects of a kind, e.g. StatefulSet.
	Kind string `json:"kind,omitempty"`
	// ObjectName narrows Kind to one object; empty checks every object of
	// the kind.
	ObjectName string `json:"objectName,omitempty"`
	// JSONPointer is an RFC 6901 pointer into each selected object; a list
	// element may be named by its index or its name, e.g.
	// /spec/template/spec/containers/neo4j/resources/limits/memory.
	JSONPointer string `json:"jsonPointer,omitempty"`

	// Min and Max bound a number, a Kubernetes quantity (2Gi, 500m) or a
	// Neo4j byte size (512m, 4g); units are normalised before comparing.
	Min string `json:"min,omitempty" clusterfile:"rawscalars" jsonschema:"oneof_type=string;number"`
	Max string `json:"max,omitempty" clusterfile:"rawscalars" jsonschema:"oneof_type=string;number"`
	// Equals requires this value (amounts compare by their normalised value).
	Equals string `json:"equals,omitempty" clusterfile:"rawscalars" jsonschema:"oneof_type=string;number;boolean"`
	// OneOf requires one of these values.
	OneOf []string `json:"oneOf,omitempty" clusterfile:"rawscalars"`
	// Regex requires the value to match this RE2 expression (anchor it
	// with ^ and $ to match the whole value).
	Regex string `json:"regex,omitempty"`
	// Required makes a missing value a violation; without it the other
	// checks pass when the value is not set.
	Required bool `json:"required,omitempty"`
	// AutoRemediate lets watch in enforce mode restore a compliant value on
	// its own; without it a violation is only reported.
	AutoRemediate bool `json:"autoRemediate,omitempty"`
}

// PolicyFile is a separate file of policy rules (neo4jctl drift and
// validate --policy-file), shared by many clusters.
type PolicyFile struct {
	Policies []PolicyRule `json:"policies" jsonschema:"required"`
}

// IgnoreRule ignores fields of the objects at Address (an address such as
// k8s:apps/StatefulSet/graph/prod, or a glob of addresses), named by JSON
// pointers, or changed by the listed field managers.
type IgnoreRule struct {
	Address string `json:"address" jsonschema:"required"`
	// JSONPointers are RFC 6901 pointers into the object; a list element may
	// be named by its index, its name ("containers/neo4j") or "*".
	JSONPointers []string `json:"jsonPointers,omitempty"`
	// ManagedFieldsManagers ignores every field last set by these managers.
	ManagedFieldsManagers []string `json:"managedFieldsManagers,omitempty"`
}

// HelmRelease is one adopted release of the Neo4j Helm chart.
type HelmRelease struct {
	// Name is the release's name, which is also its StatefulSet's, its
	// client Service's and (with -0) its Pod's.
	Name string `json:"name" jsonschema:"required"`
	// Revision is the release revision import read.
	Revision int `json:"revision,omitempty"`
	// Manifest is the chart's rendered objects as Helm recorded them
	// (Secrets left out: they hold the password). neo4jctl renders the
	// objects it manages from it, changing only what the cluster file
	// sets (image, resources, config); import writes it, do not edit it.
	Manifest string `json:"manifest" jsonschema:"required"`
}

// ServerPool is a group of servers with its own StatefulSet and ENABLE
// SERVER options.
type ServerPool struct {
	Name           string     `json:"name" jsonschema:"required"`
	Servers        int32      `json:"servers" jsonschema:"required,minimum=1"`
	ModeConstraint string     `json:"modeConstraint,omitempty" jsonschema:"enum=NONE,enum=PRIMARY,enum=SECONDARY"` // NONE, PRIMARY or SECONDARY
	Tags           []string   `json:"tags,omitempty"`
	Resources      *Resources `json:"resources,omitempty"`
	// AllowedDatabases and DeniedDatabases are the pool's ENABLE / ALTER
	// SERVER options of the same names (see pools.go).
	AllowedDatabases []string `json:"allowedDatabases,omitempty"`
	DeniedDatabases  []string `json:"deniedDatabases,omitempty"`
}

// Resources are the compute resources of each container neo4jctl renders.
type Resources struct {
	Neo4j ContainerResources `json:"neo4j,omitempty"`
	// Init is the init container that installs plugins and prepares
	// writable directories.
	Init ContainerResources `json:"init,omitempty"`
}

// ContainerResources separate requests from limits, as Kubernetes does.
// Values are Kubernetes quantities ("500m", "2Gi").
type ContainerResources struct {
	Requests ResourceList `json:"requests,omitempty"`
	Limits   ResourceList `json:"limits,omitempty"`
}

// ResourceList holds CPU and memory quantities.
type ResourceList struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Storage describes the PersistentVolumeClaims of each server.
type Storage struct {
	Data Volume `json:"data,omitempty"`
	Logs Volume `json:"logs,omitempty"`
	// Retention is the StatefulSet's PVC retention policy. Retain keeps data
	// when servers are scaled in or the cluster is deleted.
	Retention PVCRetention `json:"retention,omitempty"`
}

// Volume is one claim template.
type Volume struct {
	Size             string `json:"size,omitempty"`
	StorageClassName string `json:"storageClassName,omitempty"`
}

// PVCRetention mirrors the StatefulSet persistentVolumeClaimRetentionPolicy.
type PVCRetention struct {
	WhenScaled  string `json:"whenScaled,omitempty" jsonschema:"enum=Retain,enum=Delete"`  // Retain or Delete
	WhenDeleted string `json:"whenDeleted,omitempty" jsonschema:"enum=Retain,enum=Delete"` // Retain or Delete
}

// Auth references the Secret holding the neo4j user's password. A password
// is never written in the cluster file: Password exists only so that Load
// can refuse it with a message saying how to reference a Secret.
type Auth struct {
	SecretRef *SecretKeyRef `json:"secretRef,omitempty"`
	// Password is never allowed: store the password in a Secret and
	// reference it with secretRef.
	Password string `json:"password,omitempty"`
}

// SecretKeyRef points at one key of a Secret in the cluster's namespace.
type SecretKeyRef struct {
	Name string `json:"name" jsonschema:"required"`
	Key  string `json:"key,omitempty"`
}

// TLS enables encryption from a Secret or a cert-manager issuer (exactly
// one of them).
type TLS struct {
	SecretName  string       `json:"secretName,omitempty"`
	CertManager *CertManager `json:"certManager,omitempty"`
	// Scopes are the Neo4j SSL policies to enable: bolt, https, cluster, backup.
	Scopes []string `json:"scopes,omitempty" jsonschema:"uniqueItems=true,enum=bolt,enum=https,enum=cluster,enum=backup"`
}

// CertManager asks cert-manager for a Certificate.
type CertManager struct {
	IssuerRef IssuerRef `json:"issuerRef" jsonschema:"required"`
	DNSNames  []string  `json:"dnsNames,omitempty"`
}

// IssuerRef names a cert-manager Issuer or ClusterIssuer.
type IssuerRef struct {
	Name string `json:"name" jsonschema:"required"`
	Kind string `json:"kind,omitempty" jsonschema:"enum=Issuer,enum=ClusterIssuer"` // Issuer or ClusterIssuer
}

// Database is a user database and its topology.
type Database struct {
	Name     string   `json:"name" jsonschema:"required"`
	Topology Topology `json:"topology,omitempty"`
	Access   string   `json:"access,omitempty" jsonschema:"enum=read-write,enum=read-only"` // read-write or read-only
	// State absent drops the database (DROP DATABASE, irreversible, its name typed to confirm); a database removed from the file is left alone.
	State string `json:"state,omitempty" jsonschema:"enum=present,enum=absent"`
}

// Topology is the number of primaries and secondaries of a database.
type Topology struct {
	Primaries   int32 `json:"primaries,omitempty" jsonschema:"minimum=1,maximum=11"`
	Secondaries int32 `json:"secondaries,omitempty" jsonschema:"minimum=0,maximum=20"`
}

// Scheduling places servers across zones and nodes.
type Scheduling struct {
	Zones []string `json:"zones,omitempty"`
	// AntiAffinity keeps servers off the same node: required, preferred or none.
	AntiAffinity      string            `json:"antiAffinity,omitempty" jsonschema:"enum=required,enum=preferred,enum=none"`
	TopologySpread    *TopologySpread   `json:"topologySpread,omitempty"`
	NodeSelector      map[string]string `json:"nodeSelector,omitempty"`
	Tolerations       []Toleration      `json:"tolerations,omitempty"`
	PriorityClassName string            `json:"priorityClassName,omitempty"`
}

// TopologySpread spreads servers over zones and hosts.
type TopologySpread struct {
	MaxSkew int32 `json:"maxSkew,omitempty" jsonschema:"minimum=1"`
	// WhenUnsatisfiable is DoNotSchedule or ScheduleAnyway.
	WhenUnsatisfiable string `json:"whenUnsatisfiable,omitempty" jsonschema:"enum=DoNotSchedule,enum=ScheduleAnyway"`
}

// Toleration mirrors the Kubernetes toleration.
type Toleration struct {
	Key               string `json:"key,omitempty"`
	Operator          string `json:"operator,omitempty" jsonschema:"enum=Equal,enum=Exists"`
	Value             string `json:"value,omitempty"`
	Effect            string `json:"effect,omitempty" jsonschema:"enum=NoSchedule,enum=PreferNoSchedule,enum=NoExecute"`
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// Security hardens the Pods and the network.
type Security struct {
	// PodSecurity is "restricted" (the default) or "baseline".
	PodSecurity   string        `json:"podSecurity,omitempty" jsonschema:"enum=restricted,enum=baseline"`
	NetworkPolicy NetworkPolicy `json:"networkPolicy,omitempty"`
}

// NetworkPolicy limits who reaches the servers.
type NetworkPolicy struct {
	Enabled *bool `json:"enabled,omitempty"`
	// AllowedClients may reach the Bolt and HTTP(S) ports.
	AllowedClients []PeerSelector `json:"allowedClients,omitempty"`
	// BackupClients may reach the backup port 6362.
	BackupClients []PeerSelector `json:"backupClients,omitempty"`
	// MetricsClients may reach the Prometheus metrics port (Prometheus,
	// an agent); when none are listed, Pods of the cluster's namespace.
	MetricsClients []PeerSelector `json:"metricsClients,omitempty"`
}

// PeerSelector selects Pods by labels, optionally in other namespaces.
type PeerSelector struct {
	PodSelector       map[string]string `json:"podSelector,omitempty"`
	NamespaceSelector map[string]string `json:"namespaceSelector,omitempty"`
}

// Monitoring turns on Neo4j's Prometheus endpoint and a ServiceMonitor.
type Monitoring struct {
	Metrics        Metrics        `json:"metrics,omitempty"`
	ServiceMonitor ServiceMonitor `json:"serviceMonitor,omitempty"`
}

// Metrics exposes Neo4j's Prometheus endpoint (Enterprise only).
type Metrics struct {
	Enabled bool  `json:"enabled,omitempty"`
	Port    int32 `json:"port,omitempty" jsonschema:"minimum=1,maximum=65535"`
}

// ServiceMonitor asks a Prometheus Operator to scrape the metrics port.
type ServiceMonitor struct {
	Enabled  bool              `json:"enabled,omitempty"`
	Interval string            `json:"interval,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// Services configures the client Service.
type Services struct {
	Client ClientService `json:"client,omitempty"`
}

// ClientService is the Service applications connect to.
type ClientService struct {
	Type        string            `json:"type,omitempty" jsonschema:"enum=ClusterIP,enum=NodePort,enum=LoadBalancer"` // ClusterIP, NodePort or LoadBalancer
	Annotations map[string]string `json:"annotations,omitempty"`
}

// PodMeta is metadata added to the servers' Pods.
type PodMeta struct {
	Annotations map[string]string `json:"annotations,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// ServiceAccount is metadata added to the servers' ServiceAccount, e.g.
// iam.gke.io/gcp-service-account or eks.amazonaws.com/role-arn.
type ServiceAccount struct {
	Annotations map[string]string `json:"annotations,omitempty"`
}

// EnvVar is an environment variable: a literal Value or a ValueFrom
// reference (exactly one). A credential never goes in Value.
type EnvVar struct {
	Name      string        `json:"name" jsonschema:"required"`
	Value     string        `json:"value,omitempty"`
	ValueFrom *EnvVarSource `json:"valueFrom,omitempty"`
}

// EnvVarSource is where a variable's value comes from (exactly one).
type EnvVarSource struct {
	SecretKeyRef    *KeyRef   `json:"secretKeyRef,omitempty"`
	ConfigMapKeyRef *KeyRef   `json:"configMapKeyRef,omitempty"`
	FieldRef        *FieldRef `json:"fieldRef,omitempty"`
}

// KeyRef is one key of a Secret or ConfigMap in the cluster's namespace.
type KeyRef struct {
	Name string `json:"name" jsonschema:"required"`
	Key  string `json:"key" jsonschema:"required"`
}

// FieldRef is a field of the Pod, e.g. metadata.name or status.podIP.
type FieldRef struct {
	FieldPath string `json:"fieldPath" jsonschema:"required"`
}

// ExtraVolume is a volume of the server Pods with its mount in the Neo4j
// container; exactly one source is set.
type ExtraVolume struct {
	Name string `json:"name" jsonschema:"required"`
	// MountPath is where the Neo4j container sees it.
	MountPath string `json:"mountPath" jsonschema:"required"`
	ReadOnly  bool   `json:"readOnly,omitempty"`

	Secret                *SecretVolume    `json:"secret,omitempty"`
	ConfigMap             *ConfigMapVolume `json:"configMap,omitempty"`
	EmptyDir              *EmptyDirVolume  `json:"emptyDir,omitempty"`
	PersistentVolumeClaim *ClaimVolume     `json:"persistentVolumeClaim,omitempty"`
	CSI                   *CSIVolume       `json:"csi,omitempty"`
}

// SecretVolume mounts a Secret's keys as files.
type SecretVolume struct {
	SecretName string `json:"secretName" jsonschema:"required"`
}

// ConfigMapVolume mounts a ConfigMap's keys as files.
type ConfigMapVolume struct {
	Name string `json:"name" jsonschema:"required"`
}

// EmptyDirVolume is scratch space that lives as long as the Pod.
type EmptyDirVolume struct {
	// Medium is "" (the node's disk) or Memory.
	Medium    string `json:"medium,omitempty" jsonschema:"enum=,enum=Memory"`
	SizeLimit string `json:"sizeLimit,omitempty"`
}

// ClaimVolume mounts an existing PersistentVolumeClaim, shared by every
// server (so it must support the access mode that needs).
type ClaimVolume struct {
	ClaimName string `json:"claimName" jsonschema:"required"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

// CSIVolume is an inline CSI volume, e.g. the Secrets Store CSI driver
// mounting a cloud secret manager's secrets.
type CSIVolume struct {
	Driver           string            `json:"driver" jsonschema:"required"`
	ReadOnly         bool              `json:"readOnly,omitempty"`
	VolumeAttributes map[string]string `json:"volumeAttributes,omitempty"`
}

// Sidecar is an extra container of every server Pod. It has no security
// context, probes or lifecycle of its own to set: neo4jctl gives it the
// restricted security context of its own containers.
type Sidecar struct {
	Name            string             `json:"name" jsonschema:"required"`
	Image           string             `json:"image" jsonschema:"required"`
	ImagePullPolicy string             `json:"imagePullPolicy,omitempty" jsonschema:"enum=Always,enum=IfNotPresent,enum=Never"`
	Command         []string           `json:"command,omitempty"`
	Args            []string           `json:"args,omitempty"`
	Env             []EnvVar           `json:"env,omitempty"`
	Ports           []SidecarPort      `json:"ports,omitempty"`
	Resources       ContainerResources `json:"resources,omitempty"`
	// VolumeMounts name spec.extraVolumes, or the server's logs volume
	// (read-only), e.g. for a log shipper.
	VolumeMounts []VolumeMount `json:"volumeMounts,omitempty"`
}

// SidecarPort is a port a sidecar listens on; it shares the Pod's network
// with Neo4j, so it cannot be one of Neo4j's ports.
type SidecarPort struct {
	Name          string `json:"name,omitempty"`
	ContainerPort int32  `json:"containerPort" jsonschema:"required,minimum=1,maximum=65535"`
}

// VolumeMount mounts a volume into a sidecar.
type VolumeMount struct {
	Name      string `json:"name" jsonschema:"required"`
	MountPath string `json:"mountPath" jsonschema:"required"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}
