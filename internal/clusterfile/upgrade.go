package clusterfile

import (
	"fmt"
	"time"
)

// DefaultMaxBackupAge is spec.upgrade.maxBackupAge when left out.
const DefaultMaxBackupAge = 24 * time.Hour

// UpgradeSpec tunes version upgrades (spec.version changed).
type UpgradeSpec struct {
	// MaxBackupAge: with spec.backups, an upgrade starts only when every
	// database has a catalogued backup younger than this (a Go duration,
	// e.g. 6h; default 24h). `--skip-backup-check` leaves the check out,
	// and the plan says so.
	MaxBackupAge string `json:"maxBackupAge,omitempty"`
}

// MaxBackupAge is spec.upgrade.maxBackupAge, or its default.
func (c *Cluster) MaxBackupAge() time.Duration {
	if c.Spec.Upgrade == nil || c.Spec.Upgrade.MaxBackupAge == "" {
		return DefaultMaxBackupAge
	}
	d, err := time.ParseDuration(c.Spec.Upgrade.MaxBackupAge)
	if err != nil || d <= 0 {
		return DefaultMaxBackupAge // validate refused it already
	}
	return d
}

// upgrade checks spec.upgrade.
func (v *validator) upgrade(u *UpgradeSpec) {
	if u == nil || u.MaxBackupAge == "" {
		return
	}
	if d, err := time.ParseDuration(u.MaxBackupAge); err != nil || d <= 0 {
		v.add("spec.upgrade.maxBackupAge", fmt.Sprintf("%q is not a positive duration", u.MaxBackupAge),
			"write a Go duration such as 6h or 30m, or leave it out for 24h")
	}
}
