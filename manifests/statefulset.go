package manifests

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// neo4jUID is the uid and gid of the neo4j user in the official image.
const neo4jUID int64 = 7474

// terminationGracePeriod gives a server time to shut down cleanly: a clean
// shutdown checkpoints and flushes the transaction log (no recovery on the
// next start) and leaves the Raft groups in order (no election storm among
// the survivors). Neo4j exits as soon as it is done, so a long grace
// period costs nothing on a healthy shutdown.
const terminationGracePeriod int64 = 3600

// Volume names.
const (
	volConfig  = "config"
	volConf    = "conf"
	volTmp     = "tmp"
	volRun     = "run"
	volPlugins = "plugins"
	volData    = "data"
	volLogs    = "logs"
	volTLS     = "tls"
)

// initConfScript prepares the writable conf directory. The image
// entrypoint appends its Docker defaults and every NEO4J_* setting to
// $NEO4J_HOME/conf/neo4j.conf, so that directory must be writable, and the
// root filesystem is not: an emptyDir takes its place. This script fills it
// with the image's own conf files (server-logs.xml, user-logs.xml,
// neo4j-admin.conf keep matching the image version) and a neo4j.conf made
// of the image's settings minus every key the rendered neo4j.conf sets,
// followed by the rendered one, so no key appears twice (strict validation
// refuses duplicates).
//
// Last it appends this server's server.cluster.system_database_mode
// (systemModeScript), the one setting that differs from Pod to Pod of a
// StatefulSet by more than its name.
const initConfScript = `set -eu
cp -R ` + confDir + `/. /writable-conf/
awk -F= 'BEGIN { set["` + systemModeSetting + `"] = 1 } FILENAME != "` + confDir + `/` + confFileName + `" { if ($1 !~ /^[[:space:]]*#/) set[$1] = 1; next } !($1 in set)' \
  ` + configMountDir + `/` + confFileName + ` ` + configMountDir + `/` + dynamicConfFileName + ` ` + confDir + `/` + confFileName + ` > /writable-conf/` + confFileName + `
cat ` + configMountDir + `/` + confFileName + ` ` + configMountDir + `/` + dynamicConfFileName + ` >> /writable-conf/` + confFileName + `
` + systemModeScript

// systemModeSetting is read by each server when it starts and decides
// whether it hosts the system database as a primary or a secondary
// (configuration-settings.adoc § server.cluster.system_database_mode:
// "Users must manually specify the mode for the system database on each
// server"; clustering/databases.adoc § The system database in a cluster:
// "This has to be done before starting the Neo4j process").
const systemModeSetting = "server.cluster.system_database_mode"

// Env variables of the init-conf container that systemModeScript reads.
const (
	// PodIndexEnv is the Pod's ordinal, from the label the StatefulSet
	// controller puts on each Pod (apps.kubernetes.io/pod-index, GA in
	// Kubernetes 1.32) through the downward API.
	PodIndexEnv = "NEO4JCTL_POD_INDEX"
	// SystemPrimariesEnv is how many of the pool's first ordinals are
	// system primaries: spec.systemPrimaries for the main pool, 0 for the
	// other pools.
	SystemPrimariesEnv = "NEO4JCTL_SYSTEM_PRIMARIES"
	// PodIndexLabel is the StatefulSet controller's ordinal label.
	PodIndexLabel = "apps.kubernetes.io/pod-index"
)

// systemModeScript makes the first systemPrimaries servers of the main pool
// system primaries and every other server a system secondary, which is
// what spec.systemPrimaries promises. The mode must differ from Pod to Pod
// of one StatefulSet, whose Pods share one template, so a per-Pod value
// has to decide it. Of the ways to get one:
//   - Kubernetes' $(VAR) expansion in env values substitutes but cannot
//     compare, so an env variable alone cannot turn an ordinal into a mode;
//   - overriding the neo4j container's command to export the variable
//     would replace the image's entrypoint (tini, its setup), which must
//     stay the image's own;
//   - neo4j.conf's $(command) expansion needs --expand-commands and a
//     conf file only the neo4j user may read;
//
// so the init container that already writes the Pod's neo4j.conf (on an
// emptyDir, per Pod) appends the line, from the downward API's ordinal
// label. Without the label (Kubernetes before 1.28) the ordinal is the
// suffix of the Pod's name, which is the hostname. The lowest ordinals are
// the right primaries: a StatefulSet scales in from the highest ordinal
// down, so they are the longest-lived servers, which the manual names as
// the candidates for system primaries and the later, more often added or
// removed ones for secondaries (clustering/introduction.adoc § Primaries
// and secondaries for the system database).
//
// Community servers are standalone: no variable, no line (strict
// validation would refuse an Enterprise setting).
const systemModeScript = `if [ -n "${` + SystemPrimariesEnv + `:-}" ]; then
  index="${` + PodIndexEnv + `:-${HOSTNAME##*-}}"
  mode=SECONDARY
  if [ "$index" -lt "$` + SystemPrimariesEnv + `" ]; then mode=PRIMARY; fi
  echo "` + systemModeSetting + `=$mode" >> /writable-conf/` + confFileName + `
fi
`

func statefulSet(c *clusterfile.Cluster, namespace string, pool Pool, confHash string) (*appsv1.StatefulSet, error) {
	selector := SelectorLabels(c, pool.Name)
	podLabels := Labels(c)
	podAnnotations := map[string]string{}
	if m := c.Spec.Pod; m != nil {
		// The owner's first: what neo4jctl sets wins (Validate refuses
		// the reserved keys with the reason).
		maps.Copy(podLabels, m.Labels)
		maps.Copy(podAnnotations, m.Annotations)
	}
	maps.Copy(podLabels, Labels(c))
	podLabels[LabelPool] = selector[LabelPool]
	podAnnotations[AnnotationConfigHash] = confHash

	neo4jRes, err := resources(pool.Resources.Neo4j)
	if err != nil {
		return nil, fmt.Errorf("%s resources.neo4j: %w", pool.StatefulSet, err)
	}
	initRes, err := resources(pool.Resources.Init)
	if err != nil {
		return nil, fmt.Errorf("%s resources.init: %w", pool.StatefulSet, err)
	}
	claims, err := claimTemplates(c, selector)
	if err != nil {
		return nil, err
	}

	image := c.Spec.Image
	if image == "" {
		image = clusterfile.Image(c.Spec.Version, c.Spec.Edition)
	}
	pullPolicy := corev1.PullPolicy(c.Spec.ImagePullPolicy)
	if pullPolicy == "" {
		pullPolicy = corev1.PullIfNotPresent
	}

	env, err := serverEnv(c, namespace, pool)
	if err != nil {
		return nil, err
	}
	// After neo4jctl's own, so an extra variable may refer to them
	// ($(POD_NAME)); Validate refuses one that would replace them.
	env = append(env, envVars(c.Spec.ExtraEnv)...)

	containerSC := restrictedContainer()

	startup, liveness, readiness := probes(c)

	sidecars, err := sidecarContainers(c, containerSC)
	if err != nil {
		return nil, err
	}

	mounts := []corev1.VolumeMount{
		{Name: volData, MountPath: dataDir},
		{Name: volLogs, MountPath: logsDir},
		// Writable emptyDirs on the read-only root filesystem:
		{Name: volConf, MountPath: confDir},       // the entrypoint writes neo4j.conf
		{Name: volTmp, MountPath: "/tmp"},         // JVM temp files, the entrypoint's mktemp
		{Name: volRun, MountPath: runDir},         // server.directories.run
		{Name: volPlugins, MountPath: pluginsDir}, // NEO4J_PLUGINS installs jars here
	}
	for _, scope := range tlsScopes(c) {
		mounts = append(mounts, corev1.VolumeMount{Name: volTLS, MountPath: certificatesDir + "/" + scope, ReadOnly: true})
	}
	for _, v := range c.Spec.ExtraVolumes {
		mounts = append(mounts, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath, ReadOnly: v.ReadOnly})
	}

	sts := &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: objectMeta(c, namespace, pool.StatefulSet),
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(pool.Servers),
			ServiceName: HeadlessServiceName(c),
			Selector:    &metav1.LabelSelector{MatchLabels: selector},
			// Parallel: the members of a new cluster must all be running
			// before any of them can form it (each waits for
			// minimum_initial_system_primaries_count peers). OrderedReady
			// would start server 1 only once server 0 is Ready, which it
			// never becomes alone: a deadlock. Rollouts are still one Pod
			// at a time (RollingUpdate), and scale-in order is decided by
			// neo4jctl, not by the controller.
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      podLabels,
					Annotations: podAnnotations,
				},
				Spec: corev1.PodSpec{
					ServiceAccountName: ServiceAccountName(c),
					// Only Kubernetes discovery (Enterprise) talks to the
					// API server; a standalone server gets no token.
					AutomountServiceAccountToken: ptr.To(isEnterprise(c)),
					// Service links would put variables such as
					// NEO4J_PORT_7687_TCP into the environment when a
					// Service named "neo4j" exists; the image turns every
					// NEO4J_* variable into a setting, and strict config
					// validation then refuses to start.
					EnableServiceLinks:            ptr.To(false),
					TerminationGracePeriodSeconds: ptr.To(terminationGracePeriod),
					SecurityContext:               restrictedPod(),
					ImagePullSecrets:              pullSecrets(c.Spec.ImagePullSecrets),
					NodeSelector:                  c.Spec.Scheduling.NodeSelector,
					Tolerations:                   tolerations(c.Spec.Scheduling.Tolerations),
					PriorityClassName:             c.Spec.Scheduling.PriorityClassName,
					Affinity:                      affinity(c),
					TopologySpreadConstraints:     topologySpread(c, selector),
					InitContainers: []corev1.Container{{
						Name:            "init-conf",
						Image:           image,
						ImagePullPolicy: pullPolicy,
						Command:         []string{"bash", "-c", initConfScript},
						Env:             initEnv(c, pool),
						Resources:       initRes,
						SecurityContext: containerSC.DeepCopy(),
						VolumeMounts: []corev1.VolumeMount{
							{Name: volConfig, MountPath: configMountDir, ReadOnly: true},
							{Name: volConf, MountPath: "/writable-conf"},
						},
					}},
					Containers: append([]corev1.Container{{
						Name:            "neo4j",
						Image:           image,
						ImagePullPolicy: pullPolicy,
						Ports:           containerPorts(c),
						Env:             env,
						Resources:       neo4jRes,
						SecurityContext: containerSC,
						VolumeMounts:    mounts,
						// What each probe asks: see probes.
						StartupProbe:   startup,
						LivenessProbe:  liveness,
						ReadinessProbe: readiness,
					}}, sidecars...),
					Volumes: podVolumes(c, confHash),
				},
			},
			VolumeClaimTemplates:                 claims,
			PersistentVolumeClaimRetentionPolicy: retention(c.Spec.Storage.Retention),
		},
	}
	return sts, nil
}

// The cluster status endpoints the Enterprise probes ask (Operations
// Manual, clustering/monitoring/endpoints.adoc). Probes carry no
// credential: the servers render dbms.security.cluster_status_auth_enabled
// =false (§ Adjusting security settings for clustering endpoints) and the
// NetworkPolicy limits who reaches 7474/7473.
const (
	// ProbePathStatus is this server's own view of its status in the
	// cluster, for all databases (§ Combined status endpoints). It answers
	// 200 OK whatever the server's role — leader, follower or secondary
	// (§ Unified endpoints, table "Unified HTTP endpoint responses") — and
	// with or without a known leader (§ Status endpoints: "leader … if it
	// is null or missing, then the leader is unknown"; "A cluster member may
	// still report "isHealthy": true even if the database currently has no
	// leader"). So it answers while this process serves HTTP, whatever the
	// other members do: the liveness probe. A lost quorum must not make
	// Kubernetes restart every server, which would only lengthen the outage.
	ProbePathStatus = "/dbms/cluster/status"
	// ProbePathAvailable is 200 OK when this server can process read
	// transactions of the system database, as leader, follower or
	// secondary, and 404 when it does not host it (§ Unified endpoints).
	// Every server hosts the system database, as a primary or a secondary
	// (clustering/databases.adoc § The system database in a cluster), and
	// routing, authentication and every session go through it, so it is
	// the one database whose availability means "this server can serve":
	// the readiness probe. A probe asks one path, and which user databases
	// a server hosts changes with every reallocation; that each of them is
	// online on the server is the rolling restart's gate and healthcheck's
	// neo4j.databases.status, read from SHOW DATABASES.
	ProbePathAvailable = "/db/system/cluster/available"
)

// probes returns the Neo4j container's startup, liveness and readiness
// probes, with the thresholds of spec.probes (defaults in
// clusterfile.Probes).
//
// Enterprise asks the cluster status endpoints over HTTP, or HTTPS when TLS
// covers it (plain HTTP is then off: see config.go). Community has no
// cluster endpoints (clustering/monitoring/endpoints.adoc is
// enterprise-edition), so it is probed as the Operations Manual's own Helm
// values probe every server: TCP on Bolt 7687 (kubernetes/configuration.adoc,
// readinessProbe, livenessProbe and startupProbe); Bolt opens only once the
// DBMS has started.
func probes(c *clusterfile.Cluster) (startup, liveness, readiness *corev1.Probe) {
	t := c.Spec.Probes.Effective()
	live, ready := boltProbe(), boltProbe()
	if isEnterprise(c) {
		live, ready = statusProbe(c, ProbePathStatus), statusProbe(c, ProbePathAvailable)
	}
	probe := func(h corev1.ProbeHandler, t clusterfile.ProbeTiming) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: h, PeriodSeconds: t.PeriodSeconds, TimeoutSeconds: t.TimeoutSeconds, FailureThreshold: t.FailureThreshold}
	}
	// Startup asks what liveness asks: once the server answers at all,
	// liveness takes over; until then (store recovery, a cluster forming)
	// nothing restarts it.
	return probe(live, t.Startup), probe(live, t.Liveness), probe(ready, t.Readiness)
}

// statusProbe is an HTTP GET of a cluster status endpoint, on HTTPS when
// plain HTTP is off. The kubelet does not verify the certificate.
func statusProbe(c *clusterfile.Cluster, path string) corev1.ProbeHandler {
	get := &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(PortNameHTTP), Scheme: corev1.URISchemeHTTP}
	if !plainHTTP(c) {
		get.Port, get.Scheme = intstr.FromString(PortNameHTTPS), corev1.URISchemeHTTPS
	}
	return corev1.ProbeHandler{HTTPGet: get}
}

func boltProbe() corev1.ProbeHandler {
	return corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(PortNameBolt)}}
}

// plainHTTP reports whether the HTTP connector (7474) is on: it is off
// when TLS covers HTTPS (config.go renders server.http.enabled=false).
func plainHTTP(c *clusterfile.Cluster) bool { return !tlsScope(c, "https") }

// settingEnv returns the environment variable the image entrypoint turns
// into the given neo4j.conf setting ("." becomes "_", "_" becomes "__").
func settingEnv(setting string) string {
	return "NEO4J_" + strings.ReplaceAll(strings.ReplaceAll(setting, "_", "__"), ".", "_")
}

// initEnv is the init-conf container's environment: what
// systemModeScript needs (nothing for Community).
func initEnv(c *clusterfile.Cluster, pool Pool) []corev1.EnvVar {
	if !isEnterprise(c) {
		return nil
	}
	primaries := int32(0)
	if pool.Main {
		primaries = systemPrimaries(c)
	}
	return []corev1.EnvVar{
		{Name: PodIndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels['" + PodIndexLabel + "']"}}},
		{Name: SystemPrimariesEnv, Value: strconv.Itoa(int(primaries))},
	}
}

// passwordEnv holds the password read from the Secret. It must not start
// with NEO4J_: the image entrypoint writes every NEO4J_* variable it does
// not know into neo4j.conf, which would put the password in a file and
// stop the server on an unknown setting.
const passwordEnv = "AUTH_PASSWORD"

// serverEnv returns the container environment. Per-Pod settings live here
// because only the environment can name the Pod: Kubernetes expands
// $(POD_NAME) in later variables, so no shell or --expand-commands is
// needed.
func serverEnv(c *clusterfile.Cluster, namespace string, pool Pool) ([]corev1.EnvVar, error) {
	fqdn := fmt.Sprintf("$(POD_NAME).%s.%s.svc.%s", HeadlessServiceName(c), namespace, ClusterDomain)
	env := []corev1.EnvVar{
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
		{Name: "POD_FQDN", Value: fqdn},
	}
	if ref := c.Spec.Auth.SecretRef; ref != nil {
		key := ref.Key
		if key == "" {
			key = "password"
		}
		// The password stays in the Secret: NEO4J_AUTH is assembled by
		// the kubelet from passwordEnv, never written into an object.
		env = append(env,
			corev1.EnvVar{Name: passwordEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name},
				Key:                  key,
			}}},
			corev1.EnvVar{Name: "NEO4J_AUTH", Value: "neo4j/$(" + passwordEnv + ")"},
		)
	}
	if isEnterprise(c) {
		// Only ever what the owner wrote in the file: neo4jctl does not
		// accept a licence on anyone's behalf.
		env = append(env, corev1.EnvVar{Name: "NEO4J_ACCEPT_LICENSE_AGREEMENT", Value: c.Spec.AcceptLicenseAgreement})
	}
	if len(c.Spec.Plugins) > 0 {
		// The image's own mechanism: the entrypoint copies bundled
		// plugins (APOC core) or downloads the others into /plugins and
		// adds their required settings. No init container of ours to keep
		// in step with plugin versions.
		b, err := json.Marshal(c.Spec.Plugins)
		if err != nil {
			return nil, err
		}
		env = append(env, corev1.EnvVar{Name: "NEO4J_PLUGINS", Value: string(b)})
	}

	settings := [][2]string{{"server.default_advertised_address", "$(POD_FQDN)"}}
	if isEnterprise(c) {
		// The probes ask the cluster status endpoints without a
		// credential (see probes).
		settings = append(settings, [2]string{"dbms.security.cluster_status_auth_enabled", "false"})
		// The entrypoint would otherwise default these to $(hostname),
		// the bare Pod name, which other Pods cannot resolve.
		settings = append(settings,
			[2]string{"server.cluster.advertised_address", fmt.Sprintf("$(POD_FQDN):%d", PortCluster)},
			[2]string{"server.cluster.raft.advertised_address", fmt.Sprintf("$(POD_FQDN):%d", PortRaft)},
			[2]string{"server.routing.advertised_address", fmt.Sprintf("$(POD_FQDN):%d", PortRouting)},
		)
		if !isCalVer(c.Spec.Version) {
			settings = append(settings, [2]string{"server.discovery.advertised_address", fmt.Sprintf("$(POD_FQDN):%d", PortDiscovery)})
		}
		// server.cluster.system_database_mode is per Pod: the init
		// container writes it (systemModeScript). An env variable here
		// would override it for every Pod alike.
		// Defaults for the options neo4jctl passes to ENABLE SERVER, so a
		// server enabled by other means still lands in its pool's role.
		if m := pool.Options.ModeConstraint; m != "" {
			settings = append(settings, [2]string{"initial.server.mode_constraint", m})
		}
		if t := pool.Options.Tags; len(t) > 0 {
			settings = append(settings, [2]string{"initial.server.tags", strings.Join(t, ",")})
		}
	}
	for _, s := range settings {
		env = append(env, corev1.EnvVar{Name: settingEnv(s[0]), Value: s[1]})
	}
	return env, nil
}

func containerPorts(c *clusterfile.Cluster) []corev1.ContainerPort {
	var ports []corev1.ContainerPort
	for _, p := range serverPorts(c) {
		ports = append(ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.Port, Protocol: corev1.ProtocolTCP})
	}
	return ports
}

type namedPort struct {
	Name string
	Port int32
}

// serverPorts lists the ports a server listens on, for the container and
// the headless Service: 7474 only while plain HTTP is on.
func serverPorts(c *clusterfile.Cluster) []namedPort {
	ports := []namedPort{{PortNameBolt, PortBolt}}
	if plainHTTP(c) {
		ports = append(ports, namedPort{PortNameHTTP, PortHTTP})
	}
	if tlsScope(c, "https") {
		ports = append(ports, namedPort{PortNameHTTPS, PortHTTPS})
	}
	if isEnterprise(c) {
		ports = append(ports,
			namedPort{PortNameCluster, PortCluster},
			namedPort{PortNameRaft, PortRaft},
			namedPort{PortNameRouting, PortRouting},
			namedPort{PortNameBackup, PortBackup},
		)
		if !isCalVer(c.Spec.Version) {
			ports = append(ports, namedPort{PortNameDiscovery, PortDiscovery})
		}
	}
	if metricsEnabled(c) {
		ports = append(ports, namedPort{PortNameMetrics, metricsPort(c)})
	}
	return ports
}

func podVolumes(c *clusterfile.Cluster, confHash string) []corev1.Volume {
	vols := []corev1.Volume{
		// Restart and dynamic settings in one directory (see splitConf).
		{Name: volConfig, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: RestartConfigMapName(c, confHash)}}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: DynamicConfigMapName(c)}}},
		}}}},
		{Name: volConf, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: volTmp, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: volRun, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: volPlugins, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if c.Spec.Storage.Logs.Size == "" {
		// Without a logs claim the logs live as long as the Pod.
		vols = append(vols, corev1.Volume{Name: volLogs, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	if secret := TLSSecretName(c); secret != "" && len(tlsScopes(c)) > 0 {
		// Neo4j wants private.key, public.crt and a trusted/ directory
		// per policy; the kubernetes.io/tls keys are renamed into that
		// layout. ca.crt is optional: a Secret made by hand may lack it
		// (then client_auth REQUIRE scopes cannot verify peers).
		vols = append(vols, corev1.Volume{Name: volTLS, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			DefaultMode: ptr.To[int32](0o440),
			Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{
					LocalObjectReference: corev1.LocalObjectReference{Name: secret},
					Items: []corev1.KeyToPath{
						{Key: corev1.TLSCertKey, Path: "public.crt"},
						{Key: corev1.TLSPrivateKeyKey, Path: "private.key"},
					},
				}},
				{Secret: &corev1.SecretProjection{
					LocalObjectReference: corev1.LocalObjectReference{Name: secret},
					Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "trusted/ca.crt"}},
					Optional:             ptr.To(true),
				}},
			},
		}}})
	}
	return append(vols, extraVolumes(c.Spec.ExtraVolumes)...)
}

func claimTemplates(c *clusterfile.Cluster, selector map[string]string) ([]corev1.PersistentVolumeClaim, error) {
	var claims []corev1.PersistentVolumeClaim
	for _, v := range []struct {
		name string
		vol  clusterfile.Volume
	}{{volData, c.Spec.Storage.Data}, {volLogs, c.Spec.Storage.Logs}} {
		if v.vol.Size == "" {
			if v.name == volData {
				return nil, fmt.Errorf("spec.storage.data.size is empty")
			}
			continue
		}
		q, err := resource.ParseQuantity(v.vol.Size)
		if err != nil {
			return nil, fmt.Errorf("spec.storage.%s.size %q: %w", v.name, v.vol.Size, err)
		}
		pvc := corev1.PersistentVolumeClaim{
			// Labels of a claim template are immutable once the
			// StatefulSet exists: only the stable selector labels.
			ObjectMeta: metav1.ObjectMeta{Name: v.name, Labels: selector},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: q}},
			},
		}
		if v.vol.StorageClassName != "" {
			pvc.Spec.StorageClassName = ptr.To(v.vol.StorageClassName)
		}
		claims = append(claims, pvc)
	}
	return claims, nil
}

func retention(r clusterfile.PVCRetention) *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy {
	if r.WhenScaled == "" && r.WhenDeleted == "" {
		return nil
	}
	p := &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
	}
	if r.WhenScaled != "" {
		p.WhenScaled = appsv1.PersistentVolumeClaimRetentionPolicyType(r.WhenScaled)
	}
	if r.WhenDeleted != "" {
		p.WhenDeleted = appsv1.PersistentVolumeClaimRetentionPolicyType(r.WhenDeleted)
	}
	return p
}

func resources(r clusterfile.ContainerResources) (corev1.ResourceRequirements, error) {
	var out corev1.ResourceRequirements
	var err error
	if out.Requests, err = resourceList(r.Requests); err != nil {
		return out, fmt.Errorf("requests: %w", err)
	}
	if out.Limits, err = resourceList(r.Limits); err != nil {
		return out, fmt.Errorf("limits: %w", err)
	}
	return out, nil
}

func resourceList(r clusterfile.ResourceList) (corev1.ResourceList, error) {
	l := corev1.ResourceList{}
	for name, v := range map[corev1.ResourceName]string{corev1.ResourceCPU: r.CPU, corev1.ResourceMemory: r.Memory} {
		if v == "" {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", name, v, err)
		}
		l[name] = q
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

func pullSecrets(names []string) []corev1.LocalObjectReference {
	var out []corev1.LocalObjectReference
	for _, n := range names {
		out = append(out, corev1.LocalObjectReference{Name: n})
	}
	return out
}

func tolerations(ts []clusterfile.Toleration) []corev1.Toleration {
	var out []corev1.Toleration
	for _, t := range ts {
		out = append(out, corev1.Toleration{
			Key:               t.Key,
			Operator:          corev1.TolerationOperator(t.Operator),
			Value:             t.Value,
			Effect:            corev1.TaintEffect(t.Effect),
			TolerationSeconds: t.TolerationSeconds,
		})
	}
	return out
}

const (
	labelZone     = "topology.kubernetes.io/zone"
	labelHostname = "kubernetes.io/hostname"
)

func affinity(c *clusterfile.Cluster) *corev1.Affinity {
	var a corev1.Affinity
	if zones := c.Spec.Scheduling.Zones; len(zones) > 0 {
		a.NodeAffinity = &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: labelZone, Operator: corev1.NodeSelectorOpIn, Values: zones,
				}}}},
			},
		}
	}
	// Across pools: two servers of one cluster on a node lose two
	// members, and a quorum, with one node.
	term := corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchLabels: ClusterSelector(c)},
		TopologyKey:   labelHostname,
	}
	switch c.Spec.Scheduling.AntiAffinity {
	case "none":
	case "required":
		a.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term}}
	default: // "preferred", the default
		a.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: term}}}
	}
	if a.NodeAffinity == nil && a.PodAntiAffinity == nil {
		return nil
	}
	return &a
}

// topologySpread spreads each pool over zones and nodes. It counts per
// pool: a pool of two secondaries is spread on its own, not against the
// primaries.
func topologySpread(c *clusterfile.Cluster, selector map[string]string) []corev1.TopologySpreadConstraint {
	maxSkew := int32(1)
	when := corev1.ScheduleAnyway
	if ts := c.Spec.Scheduling.TopologySpread; ts != nil {
		if ts.MaxSkew > 0 {
			maxSkew = ts.MaxSkew
		}
		if ts.WhenUnsatisfiable != "" {
			when = corev1.UnsatisfiableConstraintAction(ts.WhenUnsatisfiable)
		}
	}
	zone := corev1.TopologySpreadConstraint{
		MaxSkew:           maxSkew,
		TopologyKey:       labelZone,
		WhenUnsatisfiable: when,
		LabelSelector:     &metav1.LabelSelector{MatchLabels: selector},
	}
	if n := len(c.Spec.Scheduling.Zones); n > 1 && when == corev1.DoNotSchedule {
		// Without minDomains the scheduler happily puts every server in
		// the only zone that has nodes right now, which meets maxSkew but
		// not the intent of listing three zones.
		zone.MinDomains = ptr.To(int32(n))
	}
	host := corev1.TopologySpreadConstraint{
		MaxSkew:           maxSkew,
		TopologyKey:       labelHostname,
		WhenUnsatisfiable: when,
		LabelSelector:     &metav1.LabelSelector{MatchLabels: selector},
	}
	return []corev1.TopologySpreadConstraint{zone, host}
}

// restrictedPod is the Pod security context of every Pod neo4jctl renders
// that runs as neo4j (the servers, the backup Jobs): the restricted Pod
// Security Standard, and the volumes group-owned by neo4j. Skipping the
// recursive chown when ownership is already right spares large data
// volumes a walk on every start.
func restrictedPod() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:        ptr.To(true),
		RunAsUser:           ptr.To(neo4jUID),
		RunAsGroup:          ptr.To(neo4jUID),
		FSGroup:             ptr.To(neo4jUID),
		FSGroupChangePolicy: ptr.To(corev1.FSGroupChangeOnRootMismatch),
		SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// restrictedContainer is the matching container security context: no
// privilege, no capability, a read-only root filesystem.
func restrictedContainer() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		RunAsUser:                ptr.To(neo4jUID),
		RunAsGroup:               ptr.To(neo4jUID),
		AllowPrivilegeEscalation: ptr.To(false),
		Privileged:               ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}
