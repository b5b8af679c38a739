package githubtest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// handlerFunc serves one REST operation.
type handlerFunc func(s *Server, w http.ResponseWriter, r *http.Request)

type route struct {
	method, path string // exactly as in GitHub's description
	handler      handlerFunc
}

// routes lists every REST operation the emulator serves. Requests are
// matched to operations by kin-openapi's router over GitHub's description
// (so path templates are GitHub's own), then dispatched here; this list is
// also what decides which operations of the description are parsed in full.
func routes() []route {
	return []route{
		// The app and its installations.
		{"GET", "/app", (*Server).getApp},
		{"GET", "/app/installations", (*Server).listInstallations},
		{"GET", "/app/installations/{installation_id}", (*Server).getInstallation},
		{"POST", "/app/installations/{installation_id}/access_tokens", (*Server).createInstallationToken},
		{"GET", "/repos/{owner}/{repo}/installation", (*Server).getRepoInstallation},
		{"GET", "/installation/repositories", (*Server).listInstallationRepos},
		{"POST", "/app-manifests/{code}/conversions", (*Server).convertManifest},

		// Repositories, people, contents.
		{"GET", "/repos/{owner}/{repo}", (*Server).getRepo},
		{"GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", (*Server).getPermission},
		{"GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", (*Server).getTeamMembership},
		{"GET", "/repos/{owner}/{repo}/contents/{path}", (*Server).getContents},
		{"GET", "/repos/{owner}/{repo}/commits/{ref}", (*Server).getCommit},
		{"GET", "/repos/{owner}/{repo}/tarball/{ref}", (*Server).getTarball},
		{"GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", (*Server).getGitCommit},
		{"GET", "/repos/{owner}/{repo}/branches/{branch}", (*Server).getBranch},
		{"GET", "/repos/{owner}/{repo}/rules/branches/{branch}", (*Server).getBranchRules},

		// Pull requests and reviews.
		{"GET", "/repos/{owner}/{repo}/pulls", (*Server).listPulls},
		{"POST", "/repos/{owner}/{repo}/pulls", (*Server).createPull},
		{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}", (*Server).getPull},
		{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", (*Server).listPullFiles},
		{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", (*Server).listPullCommits},
		{"PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", (*Server).mergePull},
		{"GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", (*Server).listCommitPulls},
		{"GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", (*Server).listReviews},
		{"POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", (*Server).createReview},
		{"PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals", (*Server).dismissReview},

		// Issues and their comments.
		{"GET", "/repos/{owner}/{repo}/issues", (*Server).listIssues},
		{"POST", "/repos/{owner}/{repo}/issues", (*Server).createIssue},
		{"GET", "/repos/{owner}/{repo}/issues/{issue_number}", (*Server).getIssue},
		{"PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", (*Server).updateIssue},
		{"GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", (*Server).listComments},
		{"POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", (*Server).createComment},
		{"GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (*Server).getComment},
		{"PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (*Server).updateComment},
		{"DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (*Server).deleteComment},
		{"GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", (*Server).listReactions},
		{"POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", (*Server).createReaction},

		// Checks and statuses.
		{"POST", "/repos/{owner}/{repo}/check-runs", (*Server).createCheckRun},
		{"GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", (*Server).getCheckRun},
		{"PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", (*Server).updateCheckRun},
		{"GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", (*Server).listAnnotations},
		{"GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", (*Server).listCheckRunsForRef},
		{"POST", "/repos/{owner}/{repo}/statuses/{sha}", (*Server).createStatus},
		{"GET", "/repos/{owner}/{repo}/commits/{ref}/statuses", (*Server).listStatuses},
		{"GET", "/repos/{owner}/{repo}/commits/{ref}/status", (*Server).combinedStatus},

		// Deployments.
		{"POST", "/repos/{owner}/{repo}/deployments", (*Server).createDeployment},
		{"GET", "/repos/{owner}/{repo}/deployments", (*Server).listDeployments},
		{"GET", "/repos/{owner}/{repo}/deployments/{deployment_id}", (*Server).getDeployment},
		{"POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", (*Server).createDeploymentStatus},
		{"GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", (*Server).listDeploymentStatuses},

		// Git Data: writing a branch without a clone (handlers_gitdata.go).
		{"POST", "/repos/{owner}/{repo}/git/blobs", (*Server).createBlob},
		{"POST", "/repos/{owner}/{repo}/git/trees", (*Server).createTree},
		{"POST", "/repos/{owner}/{repo}/git/commits", (*Server).createGitCommit},
		{"GET", "/repos/{owner}/{repo}/git/ref/{ref}", (*Server).getGitRef},
		{"POST", "/repos/{owner}/{repo}/git/refs", (*Server).createGitRef},
		{"PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", (*Server).updateGitRef},
		{"PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", (*Server).updatePull},
	}
}

// servedOperations is the set of operations routes serves.
func servedOperations() []opKey {
	rs := routes()
	out := make([]opKey, len(rs))
	for i, r := range rs {
		out[i] = opKey{r.method, r.path}
	}
	return out
}

type paramsKey struct{}

// dispatch runs the handler of the operation the contract check matched.
func (s *Server) dispatch(handlers map[opKey]handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := routeOf(r)
		h, ok := handlers[opKey{r.Method, rt.Path}]
		if !ok {
			notFound(w)
			return
		}
		if name, level := requiredPermission(r.Method, rt.Path); !s.permitted(principalOf(r), name, level) {
			writeError(w, http.StatusForbidden, errNoPermission)
			return
		}
		h(s, w, r)
	})
}

func withParams(ctx context.Context, p map[string]string) context.Context {
	return context.WithValue(ctx, paramsKey{}, p)
}

// param returns a path parameter of the matched operation, unescaped.
func param(r *http.Request, name string) string {
	p, _ := r.Context().Value(paramsKey{}).(map[string]string)
	v := p[name]
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

func paramInt(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(param(r, name), 10, 64)
	return n
}
