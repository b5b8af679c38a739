package githubtest

import "github.com/getkin/kin-openapi/openapi3"

// correctDescription fixes what GitHub's REST description gets wrong, so the
// emulator can answer as GitHub does without a contract failure. Each fix
// names its evidence.
//
//   - A pull request whose head repository was deleted (a deleted fork)
//     has head.repo null. The REST description says the field is not
//     nullable; GitHub's own webhook schemas (@octokit/webhooks-schemas,
//     pull_request's head.repo: oneOf repository | null) and its API say
//     otherwise, and bots that trust the description fail open on it.
func correctDescription(doc *openapi3.T) {
	if doc.Components == nil {
		return
	}
	for _, name := range []string{"pull-request", "pull-request-simple"} {
		pr := doc.Components.Schemas[name]
		if pr == nil || pr.Value == nil {
			continue
		}
		head := pr.Value.Properties["head"]
		if head == nil || head.Value == nil {
			continue
		}
		repo := head.Value.Properties["repo"]
		if repo == nil || repo.Value == nil || repo.Value.Nullable {
			continue
		}
		// Wrapped, not edited: the repository schema is shared with every
		// other place that (rightly) never has null there.
		head.Value.Properties["repo"] = &openapi3.SchemaRef{Value: &openapi3.Schema{Nullable: true, AllOf: openapi3.SchemaRefs{repo}}}
	}
}
