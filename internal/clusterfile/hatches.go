package clusterfile

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Escape hatches: Pod and ServiceAccount metadata, extra env, volumes and
// sidecars. Each is checked so that it cannot undo what neo4jctl's safety
// relies on — the security context, the probes' Bolt port, the managed
// environment and settings, the volumes holding the store — and says so
// when it would.

// ReservedVolumeNames are the volumes neo4jctl renders in a server Pod
// (manifests' tests check the list against what is rendered).
var ReservedVolumeNames = []string{"config", "conf", "tmp", "run", "plugins", "data", "logs", "tls"}

// ReservedMountPaths are where neo4jctl mounts its volumes in the Neo4j
// container: an extra volume may not be mounted on, above or inside one.
var ReservedMountPaths = []string{
	"/data", "/logs", "/plugins", "/tmp", "/config",
	"/var/lib/neo4j/conf", "/var/lib/neo4j/run", "/var/lib/neo4j/certificates",
}

// ReservedContainerNames are the containers neo4jctl renders.
var ReservedContainerNames = []string{"neo4j", "init-conf"}

// managedEnv are the variables neo4jctl sets on the Neo4j container, and
// why they cannot be overridden.
var managedEnv = map[string]string{
	"POD_NAME":                       "neo4jctl sets it from the Pod's name to build the advertised addresses",
	"POD_FQDN":                       "neo4jctl sets it to the Pod's DNS name to build the advertised addresses",
	"AUTH_PASSWORD":                  "neo4jctl reads it from spec.auth.secretRef",
	"NEO4J_AUTH":                     "neo4jctl builds it from spec.auth.secretRef",
	"NEO4J_ACCEPT_LICENSE_AGREEMENT": "set spec.acceptLicenseAgreement",
	"NEO4J_PLUGINS":                  "list plugins in spec.plugins",
}

// reservedAnnotationPrefixes would loosen the security context neo4jctl
// renders (AppArmor, seccomp) or are neo4jctl's own.
var reservedAnnotationPrefixes = map[string]string{
	"neo4jctl.io/": "neo4jctl sets its own annotations (the config hash rolls the Pods on a config change)",
	"container.apparmor.security.beta.kubernetes.io/": "neo4jctl sets the Pods' security context (restricted Pod Security); it cannot be loosened by annotation",
	"seccomp.security.alpha.kubernetes.io/":           "neo4jctl sets the Pods' seccomp profile (RuntimeDefault); it cannot be loosened by annotation",
}

// envVarName is what Kubernetes accepts as an env variable name.
var envVarName = newLazyRegexp(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

// imageRef is a container image reference: an optional registry host
// (with port), a path, and a tag, a digest or both. A digest is
// algorithm:hex, sha256 with 64 hex digits.
var imageRef = newLazyRegexp(`^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`)

var imageDigest = newLazyRegexp(`^sha256:[a-f0-9]{64}$`)

// image checks an image reference; a digest must be sha256 with 64 hex
// digits.
func (v *validator) image(p, ref string) {
	if ref == "" {
		return
	}
	if _, digest, ok := strings.Cut(ref, "@"); ok && !imageDigest.MatchString(digest) {
		v.add(p, fmt.Sprintf("%q has a malformed digest %q", ref, digest), "pin by digest as name@sha256:<64 hex digits>, e.g. from `crane digest` or `docker buildx imagetools inspect`")
		return
	}
	if !imageRef.MatchString(ref) {
		v.add(p, fmt.Sprintf("%q is not an image reference", ref), "e.g. neo4j:5.26.0-enterprise or registry.example.com/neo4j@sha256:…")
	}
}

func (v *validator) hatches(s *Spec) {
	if s.Pod != nil {
		v.podMeta(s.Pod)
	}
	if s.ServiceAccount != nil {
		v.annotationKeys("spec.serviceAccount.annotations", s.ServiceAccount.Annotations)
	}
	v.env("spec.extraEnv", s.ExtraEnv, true, s.Config, s.Version)
	vols := v.extraVolumes(s.ExtraVolumes)
	v.sidecars(s.Sidecars, vols)
}

func (v *validator) podMeta(m *PodMeta) {
	v.annotationKeys("spec.pod.annotations", m.Annotations)
	for _, k := range sortedKeys(m.Annotations) {
		for prefix, why := range reservedAnnotationPrefixes {
			if strings.HasPrefix(k, prefix) {
				v.add("spec.pod.annotations["+k+"]", fmt.Sprintf("annotation %q is reserved", k), why)
			}
		}
	}
	v.labels("spec.pod.labels", m.Labels, true)
}

// looksCredential reports whether an env name names a credential.
func looksCredential(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"password", "passwd", "secret", "token", "credential", "apikey", "api_key", "private_key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// env checks a list of variables. For the Neo4j container (neo4j), a
// NEO4J_* variable is a neo4j.conf setting to the image's entrypoint, so
// it is checked as spec.config would be, and may not set a setting that
// spec.config also sets.
func (v *validator) env(path string, env []EnvVar, neo4j bool, config map[string]string, version string) {
	seen := map[string]int{}
	for i, e := range env {
		p := fmt.Sprintf("%s[%d]", path, i)
		if !v.required(p+".name", e.Name, "name the variable") {
			continue
		}
		if !envVarName.MatchString(e.Name) {
			v.add(p+".name", fmt.Sprintf("%q is not a valid environment variable name", e.Name), "letters, digits, '_', '-' and '.', not starting with a digit")
			continue
		}
		if first, dup := seen[e.Name]; dup {
			v.add(p+".name", fmt.Sprintf("duplicate variable %q (also %s[%d])", e.Name, path, first), "set each variable once")
		}
		seen[e.Name] = i
		v.envSource(p, e)
		if !neo4j {
			continue
		}
		if why, ok := managedEnv[e.Name]; ok {
			v.add(p+".name", fmt.Sprintf("%s is managed by neo4jctl", e.Name), why)
			continue
		}
		if !strings.HasPrefix(e.Name, "NEO4J_") {
			continue
		}
		setting := envToSetting(e.Name)
		if m, ok := managed(setting); ok {
			fix := "neo4jctl sets this"
			if m.fix != "" {
				fix += "; " + m.fix
			}
			v.add(p+".name", fmt.Sprintf("%s sets %s, which is managed by neo4jctl", e.Name, setting), fix)
			continue
		}
		if _, ok := config[setting]; ok {
			v.add(p+".name", fmt.Sprintf("%s sets %s, which spec.config also sets", e.Name, setting), "set it in one place")
			continue
		}
		if strings.Contains(setting, ".") && checkedSettings(version) {
			if problem, fix := unknownSetting(setting); problem != "" {
				v.add(p+".name", fmt.Sprintf("%s sets %s: %s", e.Name, setting, problem), fix)
			}
		}
	}
}

// envSource checks that a variable has exactly one source and that a
// credential comes from a Secret.
func (v *validator) envSource(p string, e EnvVar) {
	n := 0
	if e.Value != "" {
		n++
	}
	if f := e.ValueFrom; f != nil {
		for _, set := range []bool{f.SecretKeyRef != nil, f.ConfigMapKeyRef != nil, f.FieldRef != nil} {
			if set {
				n++
			}
		}
		if r := f.SecretKeyRef; r != nil {
			v.keyRef(p+".valueFrom.secretKeyRef", r, "Secret")
		}
		if r := f.ConfigMapKeyRef; r != nil {
			v.keyRef(p+".valueFrom.configMapKeyRef", r, "ConfigMap")
		}
		if r := f.FieldRef; r != nil {
			v.required(p+".valueFrom.fieldRef.fieldPath", r.FieldPath, "e.g. metadata.name or status.podIP")
		}
	}
	if n > 1 {
		v.add(p, "sets more than one of value, valueFrom.secretKeyRef, valueFrom.configMapKeyRef and valueFrom.fieldRef", "keep one")
	}
	if e.Value != "" && looksCredential(e.Name) {
		v.add(p+".value", "a credential is written in the cluster file", fmt.Sprintf("store it in a Secret and reference it: valueFrom: {secretKeyRef: {name: …, key: …}} (the value of %s is never printed)", e.Name))
	}
}

func (v *validator) keyRef(p string, r *KeyRef, what string) {
	if v.required(p+".name", r.Name, "name the "+what) {
		v.dnsSubdomain(p+".name", r.Name, what)
	}
	v.required(p+".key", r.Key, "name the key")
}

// extraVolumes checks the extra volumes and returns their names.
func (v *validator) extraVolumes(vols []ExtraVolume) []string {
	var names []string
	for i, vol := range vols {
		p := fmt.Sprintf("spec.extraVolumes[%d]", i)
		if v.required(p+".name", vol.Name, "name the volume") {
			switch {
			case slices.Contains(ReservedVolumeNames, vol.Name):
				v.add(p+".name", fmt.Sprintf("volume %q is neo4jctl's", vol.Name), "choose another name; neo4jctl's volumes are "+strings.Join(ReservedVolumeNames, ", "))
			case slices.Contains(names, vol.Name):
				v.add(p+".name", fmt.Sprintf("duplicate volume %q", vol.Name), "name each volume once")
			default:
				v.dnsLabel(p+".name", vol.Name, validation.DNS1123LabelMaxLength, "lower-case letters, digits and '-'")
			}
			names = append(names, vol.Name)
		}
		v.mountPath(p+".mountPath", vol.MountPath)
		sources := 0
		if s := vol.Secret; s != nil {
			sources++
			if v.required(p+".secret.secretName", s.SecretName, "name the Secret") {
				v.dnsSubdomain(p+".secret.secretName", s.SecretName, "Secret")
			}
		}
		if cm := vol.ConfigMap; cm != nil {
			sources++
			if v.required(p+".configMap.name", cm.Name, "name the ConfigMap") {
				v.dnsSubdomain(p+".configMap.name", cm.Name, "ConfigMap")
			}
		}
		if e := vol.EmptyDir; e != nil {
			sources++
			v.oneOf(p+".emptyDir.medium", e.Medium, "Memory")
			v.quantity(p+".emptyDir.sizeLimit", e.SizeLimit)
		}
		if c := vol.PersistentVolumeClaim; c != nil {
			sources++
			if v.required(p+".persistentVolumeClaim.claimName", c.ClaimName, "name the claim") {
				v.dnsSubdomain(p+".persistentVolumeClaim.claimName", c.ClaimName, "PersistentVolumeClaim")
			}
		}
		if c := vol.CSI; c != nil {
			sources++
			v.required(p+".csi.driver", c.Driver, "e.g. secrets-store.csi.k8s.io")
		}
		if sources != 1 {
			v.add(p, fmt.Sprintf("has %d sources", sources), "set exactly one of secret, configMap, emptyDir, persistentVolumeClaim and csi")
		}
	}
	return names
}

// mountPath checks an absolute, clean path that neither covers nor hides
// one of neo4jctl's mounts.
func (v *validator) mountPath(p, mp string) {
	if !v.required(p, mp, "an absolute path, e.g. /var/lib/neo4j/import") {
		return
	}
	if !path.IsAbs(mp) || path.Clean(mp) != mp {
		v.add(p, fmt.Sprintf("%q is not a clean absolute path", mp), "e.g. /var/lib/neo4j/import")
		return
	}
	for _, r := range ReservedMountPaths {
		inside := strings.HasPrefix(mp, r+"/")
		if mp == r || strings.HasPrefix(r, mp+"/") || mp == "/" || inside {
			how := "would cover"
			if inside {
				how = "is inside"
			}
			v.add(p, fmt.Sprintf("%s %s neo4jctl's mount %s", mp, how, r),
				"neo4jctl mounts the store, logs, configuration and certificates at "+strings.Join(ReservedMountPaths, ", ")+"; mount elsewhere")
			return
		}
	}
}

func (v *validator) sidecars(sidecars []Sidecar, volumes []string) {
	var names []string
	for i, sc := range sidecars {
		p := fmt.Sprintf("spec.sidecars[%d]", i)
		if v.required(p+".name", sc.Name, "name the container") {
			switch {
			case slices.Contains(ReservedContainerNames, sc.Name):
				v.add(p+".name", fmt.Sprintf("container %q is neo4jctl's", sc.Name), "choose another name")
			case slices.Contains(names, sc.Name):
				v.add(p+".name", fmt.Sprintf("duplicate container %q", sc.Name), "name each sidecar once")
			default:
				v.dnsLabel(p+".name", sc.Name, validation.DNS1123LabelMaxLength, "lower-case letters, digits and '-'")
			}
			names = append(names, sc.Name)
		}
		if v.required(p+".image", sc.Image, "e.g. fluent/fluent-bit:3.2@sha256:…") {
			v.image(p+".image", sc.Image)
		}
		v.oneOf(p+".imagePullPolicy", sc.ImagePullPolicy, "Always", "IfNotPresent", "Never")
		v.env(p+".env", sc.Env, false, nil, "")
		v.container(p+".resources", sc.Resources)
		for j, port := range sc.Ports {
			pp := fmt.Sprintf("%s.ports[%d]", p, j)
			if what, ok := neo4jPorts[port.ContainerPort]; ok {
				v.add(pp+".containerPort", fmt.Sprintf("%d is Neo4j's %s port; the sidecar shares the Pod's network", port.ContainerPort, what), "choose another port")
			} else if port.ContainerPort < 1 || port.ContainerPort > 65535 {
				v.add(pp+".containerPort", fmt.Sprintf("must be 1-65535, got %d", port.ContainerPort), "")
			}
			if port.Name != "" {
				if errs := validation.IsValidPortName(port.Name); len(errs) > 0 {
					v.add(pp+".name", fmt.Sprintf("%q is not a valid port name: %s", port.Name, errs[0]), "")
				}
			}
		}
		for j, m := range sc.VolumeMounts {
			mp := fmt.Sprintf("%s.volumeMounts[%d]", p, j)
			switch {
			case m.Name == "logs" && !m.ReadOnly:
				v.add(mp+".readOnly", "a sidecar may mount the servers' logs only read-only", "set readOnly: true; Neo4j alone writes its logs")
			case m.Name == "logs":
			case slices.Contains(ReservedVolumeNames, m.Name):
				v.add(mp+".name", fmt.Sprintf("volume %q holds the store, configuration or certificates, which only Neo4j may use", m.Name), "mount spec.extraVolumes, or logs read-only")
			case !slices.Contains(volumes, m.Name):
				v.add(mp+".name", fmt.Sprintf("no volume %q", m.Name), "declare it in spec.extraVolumes")
			}
			if v.required(mp+".mountPath", m.MountPath, "an absolute path") && !path.IsAbs(m.MountPath) {
				v.add(mp+".mountPath", fmt.Sprintf("%q is not an absolute path", m.MountPath), "")
			}
		}
	}
}
