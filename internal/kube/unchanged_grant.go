package kube

import (
	"context"
	"encoding/json"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
)

// A skipped dry run stands for one the credentials could have made: a plan
// says kube_mode "dry-run" only if every object was dry-run or skipped under
// credentials the API server confirmed may make that object's dry run. A
// forced server-side-apply dry run is authorized as the verb "patch" on the
// object's resource (the object exists: only an object the member lists
// hold is ever skipped, and creating through an apply would need "create"
// too). Without that proof the object is dry-run as before, and read-only
// credentials then meet the Forbidden that switches plan and drift to the
// structural comparison (docs/plan-json.md) — exactly what they did before
// any skip existed.
//
// The proof is one SelfSubjectRulesReview per namespace (every
// authenticated user may create one: the system:basic-user ClusterRole),
// remembered for clusterReadTTL, whatever the number of objects: a
// SelfSubjectAccessReview answers one resource at a time, and a cluster's
// objects span half a dozen. The review's rules are trusted only when the
// server says they are complete: every authorizer in its chain enumerated
// its rules (RBAC, ABAC, Node, AlwaysAllow — none of which denies), so a
// rule listed is an allow nothing earlier in the chain can override. A
// webhook authorizer cannot enumerate and makes the answer incomplete;
// objects are then always dry-run. Rules of a namespace's review say
// nothing about cluster-scoped objects (a RoleBinding's rules are listed
// but do not apply to them), which are always dry-run.

// selfRules is a SelfSubjectRulesReview's answer: the resource rules of the
// credentials in one namespace, and whether the server could list them all.
type selfRules struct {
	rules    []rbacv1.PolicyRule
	complete bool
}

// selfRulesIn reviews the credentials' rules in ns, once per namespace for
// all concurrent callers and again after clusterReadTTL. Any failure of the
// review (refused, a server without the API) is an answer too — an
// incomplete one, so nothing is skipped — so a plan never asks twice; only
// a cancelled caller's read is not kept.
func (c *Client) selfRulesIn(ctx context.Context, ns string) selfRules {
	v, err := c.memoRead(ctx, "selfsubjectrulesreview/"+ns, func(ctx context.Context) (any, error) {
		body, err := json.Marshal(authorizationv1.SelfSubjectRulesReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: "SelfSubjectRulesReview"},
			Spec:     authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns},
		})
		if err != nil {
			return nil, err
		}
		var raw []byte
		err = c.retry(ctx, "review the credentials' rules in namespace "+ns, func(ctx context.Context) error {
			var err error
			raw, err = c.restClient.Post().AbsPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews").Body(body).DoRaw(ctx)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return selfRules{}, nil
		}
		var review authorizationv1.SelfSubjectRulesReview
		if err := json.Unmarshal(raw, &review); err != nil {
			return selfRules{}, nil
		}
		return rulesOf(review), nil
	})
	r, _ := v.(selfRules)
	if err != nil {
		return selfRules{}
	}
	return r
}

// rulesOf turns a review's answer into RBAC policy rules. An evaluation
// error makes it incomplete, whatever the flag says.
func rulesOf(review authorizationv1.SelfSubjectRulesReview) selfRules {
	st := review.Status
	r := selfRules{complete: !st.Incomplete && st.EvaluationError == ""}
	for _, rr := range st.ResourceRules {
		r.rules = append(r.rules, rbacv1.PolicyRule{
			Verbs: rr.Verbs, APIGroups: rr.APIGroups, Resources: rr.Resources, ResourceNames: rr.ResourceNames,
		})
	}
	return r
}

// mayDryRun reports whether the credentials are proven able to make p's
// dry run: p is namespaced, the review of its namespace is complete, and
// its rules cover patch on p's resource and name. The comparison is the
// RBAC package's own (validation.Covers: wildcards, resourceNames), the one
// the API server uses to refuse privilege escalation.
func (c *Client) mayDryRun(ctx context.Context, p prepared) bool {
	if p.namespace == "" {
		return false
	}
	return p.mayPatch(c.selfRulesIn(ctx, p.namespace))
}

func (p prepared) mayPatch(r selfRules) bool {
	if !r.complete || p.namespace == "" {
		return false
	}
	ok, _ := validation.Covers(r.rules, []rbacv1.PolicyRule{{
		Verbs:         []string{"patch"},
		APIGroups:     []string{p.gvr.Group},
		Resources:     []string{p.gvr.Resource},
		ResourceNames: []string{p.obj.GetName()},
	}})
	return ok
}

// startMayDryRun starts mayDryRun alongside the caller's other request (the
// GET that confirms a skip); the returned function waits for its answer.
func (c *Client) startMayDryRun(ctx context.Context, p prepared) func() bool {
	ch := make(chan bool, 1)
	go func() { ch <- c.mayDryRun(ctx, p) }()
	return func() bool { return <-ch }
}
