package planner

import (
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/config"
)

// TestPoliciesHelm: in a Helm environment a violation is at the template's
// file and at the line of the object's document in it; compliant objects
// beside them are not reported.
func TestPoliciesHelm(t *testing.T) {
	f := newFixture(t, cluster)
	f.createNamespace()
	env := f.env()
	env.Path = ""
	env.Helm = &config.Helm{Chart: "chart", Release: "shop"}
	env.Policies = f.policies()
	docs := []string{
		policyDeployment("good", teamLabel, "nginx:1.27", limits, 1),
		policyDeployment("nolimits", teamLabel, "nginx:1.27", "", 1),
		policyDeployment("latest", teamLabel, "{{ .Values.image }}", limits, 1),
		policyDeployment("noteam", "", "nginx:1.27", limits, 1),
	}
	tpl := strings.Join(docs, "---\n")
	head := f.files(
		"chart/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
		"chart/values.yaml", "image: nginx:latest\n",
		"chart/templates/apps.yaml", tpl,
		"chart/templates/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: {{NS}}}\nspec: {ports: [{port: 80}]}\n",
	)
	// The line of each document in the template.
	lineOf := map[string]int{}
	line := 1
	for i, name := range []string{"good", "nolimits", "latest", "noteam"} {
		lineOf[name] = line
		line += strings.Count(docs[i], "\n") + 1
	}
	p := f.plan(env, head, nil)
	ns := f.ns
	type seen struct {
		object, message string
		at              Location
	}
	var gotProblems, gotWarnings []seen
	for _, pr := range p.Problems {
		gotProblems = append(gotProblems, seen{pr.Object, pr.Message, pr.Source})
	}
	for _, pr := range p.Warnings {
		gotWarnings = append(gotWarnings, seen{pr.Object, pr.Message, pr.Source})
	}
	at := func(name string) Location { return Location{File: "chart/templates/apps.yaml", Line: lineOf[name]} }
	wantProblems := []seen{
		{"Deployment/" + ns + "/nolimits", "policy limits-required: every container needs resource limits", at("nolimits")},
		{"Deployment/" + ns + "/noteam", "policy team-label: every Deployment needs a team label", at("noteam")},
	}
	wantWarnings := []seen{
		{"Deployment/" + ns + "/latest", "policy no-latest: pin the image to a version, not :latest", at("latest")},
	}
	if !equalSeen(gotProblems, wantProblems) {
		t.Errorf("problems:\n got %+v\nwant %+v", gotProblems, wantProblems)
	}
	if !equalSeen(gotWarnings, wantWarnings) {
		t.Errorf("warnings:\n got %+v\nwant %+v", gotWarnings, wantWarnings)
	}
	if c := p.Counts(); c.Create != 5 {
		t.Errorf("counts %+v, want 5 creates:\n%s", c, describe(p))
	}
}

func equalSeen[T comparable](got, want []T) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			return false
		}
	}
	return true
}
