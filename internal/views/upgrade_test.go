package views

import (
	"testing"

	"github.com/neo4jctl/neo4jctl/plan"
)

func TestUpgradeStepLine(t *testing.T) {
	up := &plan.UpgradeStep{From: "5.26.0", To: "2025.10.1"}
	tests := []struct {
		name string
		step plan.Step
		want string
	}{
		{name: "pre-flight", step: plan.Step{Kind: plan.KindUpgradePreflight, Action: plan.ActionRead, Address: "k8s:apps/StatefulSet/ns/g",
			Upgrade: up, Rollout: &plan.Rollout{StatefulSet: "g", Pods: []string{"g-2"}}, Reason: "checks"},
			want: "<= k8s:apps/StatefulSet/ns/g  upgrade 5.26.0 → 2025.10.1: pre-flight before g-2  (checks)"},
		{name: "verify", step: plan.Step{Kind: plan.KindUpgradeVerify, Action: plan.ActionRead, Address: "k8s:apps/StatefulSet/ns/g",
			Upgrade: up, Rollout: &plan.Rollout{StatefulSet: "g", Pods: []string{"g-2", "g-1"}}},
			want: "<= k8s:apps/StatefulSet/ns/g  upgrade 5.26.0 → 2025.10.1: verify g-2, g-1 report 2025.10.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stepLine(tt.step); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
