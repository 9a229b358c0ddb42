package views

import (
	"strings"

	"github.com/neo4jctl/neo4jctl/plan"
)

// upgradeStatement names an upgrade's pre-flight or verification step;
// the step's reason lists the checks.
func upgradeStatement(s plan.Step) string {
	if s.Upgrade == nil || s.Rollout == nil {
		return ""
	}
	up := "upgrade " + s.Upgrade.From + " → " + s.Upgrade.To + ": "
	if s.Kind == plan.KindUpgradeVerify {
		return up + "verify " + strings.Join(s.Rollout.Pods, ", ") + " report " + s.Upgrade.To
	}
	return up + "pre-flight before " + strings.Join(s.Rollout.Pods, ", ")
}
