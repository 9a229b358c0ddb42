package manifests

import (
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/neo4jctl/neo4jctl/internal/clusterfile"
)

// The escape hatches of the cluster file (spec.pod, spec.serviceAccount,
// spec.extraEnv, spec.extraVolumes, spec.sidecars) rendered into the
// objects. Validate has refused whatever would replace what neo4jctl
// relies on; here neo4jctl's own values are applied last regardless.

// envVars converts the cluster file's variables.
func envVars(env []clusterfile.EnvVar) []corev1.EnvVar {
	out := make([]corev1.EnvVar, 0, len(env))
	for _, e := range env {
		ev := corev1.EnvVar{Name: e.Name, Value: e.Value}
		if f := e.ValueFrom; f != nil {
			src := &corev1.EnvVarSource{}
			switch {
			case f.SecretKeyRef != nil:
				src.SecretKeyRef = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: f.SecretKeyRef.Name}, Key: f.SecretKeyRef.Key}
			case f.ConfigMapKeyRef != nil:
				src.ConfigMapKeyRef = &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: f.ConfigMapKeyRef.Name}, Key: f.ConfigMapKeyRef.Key}
			case f.FieldRef != nil:
				src.FieldRef = &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: f.FieldRef.FieldPath}
			}
			ev.ValueFrom = src
		}
		out = append(out, ev)
	}
	return out
}

// extraVolumes converts spec.extraVolumes into Pod volumes.
func extraVolumes(vols []clusterfile.ExtraVolume) []corev1.Volume {
	out := make([]corev1.Volume, 0, len(vols))
	for _, v := range vols {
		var src corev1.VolumeSource
		switch {
		case v.Secret != nil:
			src.Secret = &corev1.SecretVolumeSource{SecretName: v.Secret.SecretName}
		case v.ConfigMap != nil:
			src.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: v.ConfigMap.Name}}
		case v.EmptyDir != nil:
			src.EmptyDir = &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(v.EmptyDir.Medium)}
			if v.EmptyDir.SizeLimit != "" {
				if q, err := resource.ParseQuantity(v.EmptyDir.SizeLimit); err == nil {
					src.EmptyDir.SizeLimit = &q
				}
			}
		case v.PersistentVolumeClaim != nil:
			src.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.PersistentVolumeClaim.ClaimName, ReadOnly: v.PersistentVolumeClaim.ReadOnly}
		case v.CSI != nil:
			src.CSI = &corev1.CSIVolumeSource{Driver: v.CSI.Driver, VolumeAttributes: v.CSI.VolumeAttributes}
			if v.CSI.ReadOnly {
				src.CSI.ReadOnly = &v.CSI.ReadOnly
			}
		}
		out = append(out, corev1.Volume{Name: v.Name, VolumeSource: src})
	}
	return out
}

// sidecarContainers renders spec.sidecars. Each gets a copy of sc, the
// restricted security context of neo4jctl's own containers: the file has
// no field to change it.
func sidecarContainers(c *clusterfile.Cluster, sc *corev1.SecurityContext) ([]corev1.Container, error) {
	out := make([]corev1.Container, 0, len(c.Spec.Sidecars))
	for i, s := range c.Spec.Sidecars {
		res, err := resources(s.Resources)
		if err != nil {
			return nil, fmt.Errorf("spec.sidecars[%d].resources: %w", i, err)
		}
		ctr := corev1.Container{
			Name:            s.Name,
			Image:           s.Image,
			ImagePullPolicy: corev1.PullPolicy(s.ImagePullPolicy),
			Command:         s.Command,
			Args:            s.Args,
			Env:             envVars(s.Env),
			Resources:       res,
			SecurityContext: sc.DeepCopy(),
		}
		if ctr.ImagePullPolicy == "" {
			ctr.ImagePullPolicy = corev1.PullIfNotPresent
		}
		if len(ctr.Env) == 0 {
			ctr.Env = nil
		}
		for _, p := range s.Ports {
			ctr.Ports = append(ctr.Ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: corev1.ProtocolTCP})
		}
		for _, m := range s.VolumeMounts {
			ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: m.Name, MountPath: m.MountPath, ReadOnly: m.ReadOnly})
		}
		out = append(out, ctr)
	}
	return out, nil
}

// withServiceAccountAnnotations adds spec.serviceAccount.annotations (cloud
// workload identity) to the ServiceAccount's metadata.
func withServiceAccountAnnotations(sa *corev1.ServiceAccount, c *clusterfile.Cluster) *corev1.ServiceAccount {
	if c.Spec.ServiceAccount == nil || len(c.Spec.ServiceAccount.Annotations) == 0 {
		return sa
	}
	ann := maps.Clone(c.Spec.ServiceAccount.Annotations)
	maps.Copy(ann, sa.Annotations)
	sa.Annotations = ann
	return sa
}
