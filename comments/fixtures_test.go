package comments

import (
	"fmt"
	"strings"

	"github.com/tugboatops/tugboat/planner"
)

// Fixtures shared by the golden, Markdown and check-run tests. The diffs look
// like what the planner produces: unified diffs of normalized YAML with
// Secret values masked.

const (
	headSHA  = "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"
	mergeSHA = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"
	digestA  = "sha256:5d41402abc4b2a76b9719d911017c592ae1b2c3d4e5f60718293a4b5c6d7e8f9"
	digestB  = "sha256:7b502c3a1f48c8609ae212cdfb639dee39673f5e1b2c3d4e5f60718293a4b5c6"
)

func deployment(ns, name string) planner.ObjectRef {
	return planner.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: name}
}

func configMap(ns, name string) planner.ObjectRef {
	return planner.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: name}
}

const webImageDiff = `--- live
+++ desired
@@ -18,7 +18,7 @@
     spec:
       containers:
       - name: web
-        image: ghcr.io/acme/web:1.4.2
+        image: ghcr.io/acme/web:1.5.0
         ports:
         - containerPort: 8080
`

const newConfigMapDiff = `--- live
+++ desired
@@ -0,0 +1,7 @@
+apiVersion: v1
+kind: ConfigMap
+metadata:
+  name: web-flags
+  namespace: apps
+data:
+  FEATURE_X: "true"
`

const secretDiff = `--- live
+++ desired
@@ -1,8 +1,8 @@
 apiVersion: v1
 kind: Secret
 metadata:
   name: web-db
   namespace: apps
 data:
-  password: '*** (before)'
+  password: '*** (changed)'
   user: '*** (unchanged)'
`

// twoEnvPlan is the everyday case: staging applied by comment, prod on merge,
// dev untouched by the pull request.
func twoEnvPlan() PlanComment {
	staging := &planner.Plan{
		Env: "staging", Cluster: "staging-eu1", Commit: mergeSHA, Digest: digestA,
		Changes: []planner.Change{
			{Ref: configMap("apps", "web-flags"), Action: planner.ActionCreate, Diff: newConfigMapDiff,
				Source: planner.Location{File: "deploy/overlays/staging/flags.yaml", Line: 1}, FromPR: true},
			{Ref: deployment("apps", "web"), Action: planner.ActionUpdate, Diff: webImageDiff,
				Source: planner.Location{File: "deploy/base/web.yaml", Line: 12}, FromPR: true},
			{Ref: planner.ObjectRef{Version: "v1", Kind: "Secret", Namespace: "apps", Name: "web-db"},
				Action: planner.ActionUpdate, Diff: secretDiff,
				Source: planner.Location{File: "deploy/base/secret.yaml", Line: 1}, FromPR: true},
			{Ref: configMap("apps", "untouched"), Action: planner.ActionUnchanged, FromPR: true},
		},
	}
	prod := &planner.Plan{
		Env: "prod", Cluster: "prod-us1", Commit: mergeSHA, Digest: digestB,
		Changes: []planner.Change{
			{Ref: deployment("apps", "web"), Action: planner.ActionUpdate, Diff: webImageDiff,
				Source: planner.Location{File: "deploy/base/web.yaml", Line: 12}, FromPR: true},
		},
	}
	return PlanComment{
		Repo: "acme/platform", RepoURL: "https://github.com/acme/platform", PR: 42,
		HeadSHA: headSHA, MergeSHA: mergeSHA,
		Envs: []EnvPlan{
			{Env: "staging", Cluster: "staging-eu1", Mode: ApplyOnComment, Plan: staging},
			{Env: "prod", Cluster: "prod-us1", Mode: ApplyOnMerge, Plan: prod},
			{Env: "dev", Cluster: "dev", Mode: ApplyAuto, Unaffected: true},
		},
	}
}

// problemPlan has render and dry-run problems whose messages carry
// characters that must not break the comment, plus an environment the bot
// failed to plan.
func problemPlan() PlanComment {
	staging := &planner.Plan{
		Env: "staging", Cluster: "staging-eu1", Commit: mergeSHA, Digest: digestA,
		Problems: []planner.Problem{
			{Source: planner.Location{File: "deploy/base/web.yaml", Line: 14},
				Message: "yaml: line 14: mapping values are not allowed in this context"},
			{Source: planner.Location{File: "deploy/base/web.yaml", Line: 30}, Object: "Deployment/apps/web",
				Message: "spec.template.spec.containers[0].resources.limits.cpu: Invalid value: \"2 | 3\": must match <quantity>; ask @acme/sre"},
			{Message: "dry-run: admission webhook \"policy.acme.io\" denied the request:\n  *privileged* containers are not allowed"},
		},
		Changes: []planner.Change{
			{Ref: configMap("apps", "web-flags"), Action: planner.ActionCreate, Diff: newConfigMapDiff,
				Source: planner.Location{File: "deploy/overlays/staging/flags.yaml", Line: 1}, FromPR: true},
		},
	}
	return PlanComment{
		Repo: "acme/platform", RepoURL: "https://github.com/acme/platform", PR: 43,
		HeadSHA: headSHA, MergeSHA: mergeSHA, ConfigChanged: true,
		Notes: []string{"Environment `qa` was added in .tugboat.yaml | it is planned after merge <b>only</b>."},
		Envs: []EnvPlan{
			{Env: "staging", Cluster: "staging-eu1", Mode: ApplyOnComment, Plan: staging},
			{Env: "prod", Cluster: "prod-us1", Mode: ApplyOnMerge,
				Failure: "plan prod: dry-run Deployment/apps/web: dial tcp 10.0.0.7:6443: connect: connection refused"},
		},
	}
}

// driftDangerPlan deletes a namespace (dangerous) and reverts drift the
// cluster picked up outside of git.
func driftDangerPlan() PlanComment {
	staging := &planner.Plan{
		Env: "staging", Cluster: "staging-eu1", Commit: mergeSHA, Digest: digestA,
		Changes: []planner.Change{
			{Ref: planner.ObjectRef{Version: "v1", Kind: "Namespace", Name: "legacy"}, Action: planner.ActionDelete,
				Diff:   "--- live\n+++ desired\n@@ -1,4 +0,0 @@\n-apiVersion: v1\n-kind: Namespace\n-metadata:\n-  name: legacy\n",
				FromPR: true, Danger: "deletes Namespace legacy and every object in it"},
			{Ref: deployment("apps", "web"), Action: planner.ActionUpdate,
				Diff:   "--- live\n+++ desired\n@@ -8,3 +8,3 @@\n spec:\n-  replicas: 5\n+  replicas: 2\n",
				Source: planner.Location{File: "deploy/base/web.yaml", Line: 8}, FromPR: false},
		},
	}
	return PlanComment{
		Repo: "acme/platform", PR: 44, HeadSHA: headSHA,
		Envs: []EnvPlan{{Env: "staging", Cluster: "staging-eu1", Mode: ApplyOnComment, Plan: staging}},
	}
}

// hugePlan has enough changes that its comment must be split.
func hugePlan(n int) PlanComment {
	p := &planner.Plan{Env: "prod", Cluster: "prod-us1", Commit: mergeSHA, Digest: digestB}
	for i := range n {
		var d strings.Builder
		fmt.Fprintf(&d, "--- live\n+++ desired\n@@ -0,0 +1,14 @@\n+apiVersion: v1\n+kind: ConfigMap\n+metadata:\n+  name: settings-%03d\n+  namespace: apps\n+data:\n", i)
		for k := range 8 {
			fmt.Fprintf(&d, "+  key-%d: value %03d-%d with some padding to look like real settings\n", k, i, k)
		}
		p.Changes = append(p.Changes, planner.Change{
			Ref: configMap("apps", fmt.Sprintf("settings-%03d", i)), Action: planner.ActionCreate, Diff: d.String(),
			Source: planner.Location{File: fmt.Sprintf("deploy/prod/settings-%03d.yaml", i), Line: 1}, FromPR: true,
		})
	}
	return PlanComment{
		Repo: "acme/platform", PR: 45, HeadSHA: headSHA, MergeSHA: mergeSHA,
		Envs: []EnvPlan{
			{Env: "staging", Cluster: "staging-eu1", Mode: ApplyOnComment, Unaffected: true},
			{Env: "prod", Cluster: "prod-us1", Mode: ApplyOnMerge, Plan: p},
		},
	}
}

const takeoverDiff = `--- live
+++ planned
@@ -2,7 +2,7 @@
 kind: ConfigMap
 metadata:
   labels:
-    applyset.kubernetes.io/part-of: applyset-2i1bsmstvanv0oocgbnxq0jm-v1
+    applyset.kubernetes.io/part-of: applyset-bhdqwkvn0ab2bggscvqmfmd0-v1
   name: shared-flags
   namespace: apps
`

// adoptPlan is tugboat's first plan after someone ran kubectl apply: most
// objects only gain tugboat's ApplySet label (adopt), one is another
// ApplySet's (a dangerous takeover), one changes for real.
func adoptPlan() PlanComment {
	staging := &planner.Plan{
		Env: "staging", Cluster: "staging-eu1", Commit: mergeSHA, Digest: digestA,
		Changes: []planner.Change{
			{Ref: configMap("apps", "shared-flags"), Action: planner.ActionUpdate, Diff: takeoverDiff,
				Source: planner.Location{File: "deploy/base/flags.yaml", Line: 1}, FromPR: false,
				Danger: "takes the object over from another ApplySet (applyset-2i1bsmstvanv0oocgbnxq0jm-v1): another repository or environment manages it, and the two will keep overwriting each other"},
			{Ref: configMap("apps", "web-config"), Action: planner.ActionAdopt,
				Source: planner.Location{File: "deploy/base/config.yaml", Line: 1}, FromPR: false},
			{Ref: planner.ObjectRef{Version: "v1", Kind: "Service", Namespace: "apps", Name: "web"}, Action: planner.ActionAdopt,
				Source: planner.Location{File: "deploy/base/service.yaml", Line: 1}, FromPR: false},
			{Ref: deployment("apps", "web"), Action: planner.ActionUpdate, Diff: webImageDiff,
				Source: planner.Location{File: "deploy/base/web.yaml", Line: 12}, FromPR: true},
			{Ref: deployment("apps", "worker"), Action: planner.ActionAdopt,
				Source: planner.Location{File: "deploy/base/worker.yaml", Line: 1}, FromPR: false},
			{Ref: configMap("apps", "untouched"), Action: planner.ActionUnchanged, FromPR: true},
		},
	}
	return PlanComment{
		Repo: "acme/platform", RepoURL: "https://github.com/acme/platform", PR: 46,
		HeadSHA: headSHA, MergeSHA: mergeSHA,
		Envs: []EnvPlan{{Env: "staging", Cluster: "staging-eu1", Mode: ApplyOnComment, Plan: staging}},
	}
}
