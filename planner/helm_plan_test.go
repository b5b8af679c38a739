package planner

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/config"
)

// shopRepo is a repository holding the shop chart at charts/shop.
func shopRepo(t *testing.T) fstest.MapFS {
	t.Helper()
	repo := fstest.MapFS{}
	err := fs.WalkDir(fixtures, "helm/shop", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fixtures, p)
		repo["charts/shop"+strings.TrimPrefix(p, "helm/shop")] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// A Helm environment planned into an empty namespace: every object of the
// chart (its subchart's and its CRD included) is a create at its template,
// with the cluster's capabilities; hooks are a note. Applied, then changed
// (image tag by set, replicas by the values file), the plan updates what
// changed and nothing else.
func TestPlanHelmChart(t *testing.T) {
	f := newFixture(t, cluster)
	f.planner.Renderer.(*Renderer).Clusters = f.planner.Clusters
	f.createNamespace()
	repo := shopRepo(t)
	env := config.Environment{Name: "test", Cluster: "test", Namespace: f.ns, Apply: config.ApplyOnComment,
		Helm: &config.Helm{Chart: "charts/shop", Release: "shop", Values: []string{"charts/shop/values-prod.yaml"}}}
	p := f.plan(env, repo, nil)
	noProblems(t, p)
	if c := p.Counts(); c.Create != 11 || c.Update+c.Delete+c.Unchanged != 0 {
		t.Fatalf("counts %+v, want 11 creates:\n%s", c, describe(p))
	}
	if p.Changes[0].Ref.Kind != "CustomResourceDefinition" {
		t.Errorf("first change %s, want the chart's CRD first", p.Changes[0].Ref)
	}
	pdb := change(t, p, "PodDisruptionBudget", "shop-frontend") // policy/v1 is served: the cluster's capabilities
	if pdb.Source != (Location{File: "charts/shop/templates/pdb.yaml", Line: 1}) {
		t.Errorf("PDB from %+v", pdb.Source)
	}
	cm := change(t, p, "ConfigMap", "shop-flags")
	if !strings.Contains(cm.Diff, "kube-version: v1.36") {
		t.Errorf(".Capabilities.KubeVersion is not the cluster's:\n%s", cm.Diff)
	}
	svc := change(t, p, "Service", "shop-cart")
	if svc.Source != (Location{File: "charts/shop/templates/cart.yaml", Line: 4}) || svc.Ref.Namespace != f.ns {
		t.Errorf("cart Service %s from %+v", svc.Ref, svc.Source)
	}
	redis := change(t, p, "Deployment", "shop-redis")
	if redis.Source.File != "charts/shop/charts/redis/templates/redis.yaml" || !strings.Contains(redis.Diff, "image: redis:7.2") {
		t.Errorf("subchart's Deployment from %+v:\n%s", redis.Source, redis.Diff)
	}
	if len(p.Warnings) != 1 || !strings.HasPrefix(p.Warnings[0].Message, "1 Helm hook not applied (tugboat applies the chart's objects, never its hooks): Job/shop-migrate") {
		t.Errorf("warnings %+v, want the hook note", p.Warnings)
	}

	// Apply what was planned (but the cluster-wide CRD, which other runs
	// of this test share), as the applier would.
	objs, probs := RenderHelmInProcess(repo, HelmRender{Helm: *env.Helm, Namespace: f.ns, Capabilities: &HelmCapabilities{KubeVersion: "v1.36.3", APIVersions: []string{"policy/v1/PodDisruptionBudget"}}}, DefaultLimits())
	wantProblems(t, probs, " : 1 Helm hook")
	for _, o := range objs {
		if o.Obj.GetKind() == "CustomResourceDefinition" {
			continue
		}
		if o.Obj.GetNamespace() == "" {
			o.Obj.SetNamespace(f.ns)
		}
		y, err := yaml.Marshal(o.Obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		f.apply(string(y))
	}

	repo["charts/shop/values-prod.yaml"] = &fstest.MapFile{Data: []byte("replicas: 4\nimage:\n  tag: \"1.3.2\"\n")}
	env.Helm.Set = []config.HelmSet{{Key: "image.tag", Value: "1.5.0"}}
	p = f.plan(env, repo, nil)
	noProblems(t, p)
	dep := change(t, p, "Deployment", "shop-frontend")
	if dep.Action != ActionUpdate || !strings.Contains(dep.Diff, "+        - image: registry.example.com/shop/frontend:1.5.0") || !strings.Contains(dep.Diff, "+  replicas: 4") {
		t.Errorf("frontend %s:\n%s", dep.Action, dep.Diff)
	}
	for _, name := range []string{"shop-redis"} {
		if c := change(t, p, "Deployment", name); c.Action != ActionUnchanged {
			t.Errorf("%s %s:\n%s", name, c.Action, c.Diff)
		}
	}
	if c := change(t, p, "PodDisruptionBudget", "shop-frontend"); c.Action != ActionUnchanged {
		t.Errorf("PDB %s:\n%s", c.Action, c.Diff)
	}
	if c := change(t, p, "CustomResourceDefinition", "widgets.shop.example.com"); c.Action != ActionCreate {
		t.Errorf("CRD %s", c.Action)
	}
	if c := p.Counts(); c.Update != 6 || c.Create != 1 {
		t.Errorf("counts %+v, want 6 updates (3 Deployments, 3 Services: the version label) and the CRD's create:\n%s", c, describe(p))
	}
}
