// Package githubtest is a GitHub emulator for tests and the sandbox: an
// HTTP server that behaves like the parts of api.github.com tugboat uses
// and checks every request it receives and every response it sends
// against GitHub's own published REST API description
// (@octokit/openapi 23.0.2, generated/api.github.com.json).
//
// # Starting one
//
//	s := githubtest.New(t)                      // closed, and contract-checked, at t's cleanup
//	s, err := githubtest.NewServer(WithAddr(a)) // the sandbox; call s.Close()
//
// The test data (the description and the webhook schemas) comes from
// `make testdata` (hack/testdata.sh) and is found in $TUGBOAT_TESTDATA or
// <user cache dir>/tugboat/testdata. Without it New fails the test and says
// to run `make testdata`.
//
// # Connecting a client
//
// s.App() is the GitHub App: its ID, RSA private key (PEM) and webhook
// secret. Clients authenticate for real: the app's JWT (RS256, checked for
// signature, iss, iat and exp, with GitHub's 401 messages) for /app/*, and installation tokens from
// POST /app/installations/{id}/access_tokens for everything else. Point
// ghinstallation's BaseURL at s.URL() and go-github's BaseURL at s.URL()+"/",
// or use WithEnterpriseURLs(s.URL(), s.URL()) / go-githubapp's V3APIURL =
// s.URL(), V4APIURL = s.GraphQLURL(): /api/v3/* and /api/graphql work too.
// s.UserToken(login) gives a token acting as a person.
//
// # State
//
//	s.CreateRepo("acme/infra", RepoOptions{Files: ...})  // a bare git repository on disk
//	id := s.CreateInstallation("acme")                    // all of acme's repositories
//	sha := s.Commit("acme/infra", "feature", files, "msg") // push; announces push + synchronize
//	n := s.OpenPR("acme/infra", PROptions{Head: "feature", Author: "alice"})
//	s.SetPermission("acme/infra", "bob", "write"); s.AddTeamMember("acme", "platform", "bob", "")
//	s.Protect("acme/infra", "main", BranchProtection{RequiredContexts: ..., RequiredApprovals: 1})
//	s.AddRuleset("acme/infra", Ruleset{Branches: []string{"~DEFAULT_BRANCH"}, RequiredChecks: ...})
//	s.RequireMergeQueue("acme/infra", "main"); s.EnqueuePR("acme/infra", n, "bob")
//	s.SetInstallationPermission(id, "deployments", "")  // not accepted yet: 403 on deployments
//	s.Comment / EditComment / Approve / Review / DismissReview / RequestAction /
//	RerequestCheckRun / RerequestCheckSuite / Merge / ClosePR / ReopenPR / ReadyForReview /
//	SetStatus / Fork / Branch / DeleteFiles / AdvanceMergeQueue
//	s.DeleteRepo(fork)   // a deleted fork: its open PRs show head.repo null
//
// A pull request's merge_commit_sha is a real test merge of head into base
// made with git (git merge-tree, then commit-tree with both parents) and
// recomputed whenever either branch moves. On conflict mergeable is false,
// mergeable_state "dirty" and merge_commit_sha keeps the last good merge,
// as on GitHub. Otherwise mergeable_state is draft, blocked (required
// contexts or approvals missing), behind (the base moved on), unstable (a
// check failed) or clean. WithMergeableDelay(d) reports mergeable null for
// d after a push, as GitHub does while it computes.
//
// Required contexts are branch protection's and the rulesets' together
// (GET .../branches/{branch} shows the first, GET .../rules/branches/{branch}
// the second); both block merging and make mergeable_state "blocked".
//
// Check runs: once completed, a run's status and conclusion cannot change
// (422 naming the run, "create a new check run"), as on GitHub; output,
// annotations and actions still can, and repeating the same conclusion is
// no change.
//
// Deployments and their statuses follow GitHub's rules for auto_merge,
// required_contexts (409 while a context has not succeeded),
// environment/production defaults and auto_inactive; handlers_deployments.go
// lists them. Their webhooks are not sent (the app does not subscribe).
//
// A branch whose ruleset has a merge_queue rule merges only through its
// queue (PUT .../merge answers 405): EnqueuePR or GraphQL
// enqueuePullRequest builds a merge group commit on
// gh-readonly-queue/<base>/pr-<n>-<sha> and sends merge_group
// checks_requested; when the required contexts pass on it the base
// fast-forwards to it (merge_group destroyed "merged", pull_request closed,
// push); a failure dequeues the pull request. mergequeue.go has the details.
//
// An installation holds the permissions its account accepted (everything
// the app asks for, until SetInstallationPermission changes one); a call
// needing more answers 403 "Resource not accessible by integration".
//
// Setup helpers fail the test (t.Fatalf) on error under New, and panic
// under NewServer.
//
// # Inspection
//
// s.Comments, s.CheckRuns, s.Statuses, s.Deployments, s.Reactions,
// s.Issues, s.PR and s.MergeQueue show what a client left behind, in order. s.Deliveries lists webhook
// deliveries with their response code and latency; s.Redeliver(id) sends
// one again with the same X-GitHub-Delivery; s.WaitForDeliveries waits for
// the queue to drain.
//
// # Webhooks
//
// s.SetWebhook(url, secret) sets where deliveries go. Every state change
// GitHub would announce is delivered asynchronously, in order, with
// GitHub's headers (X-GitHub-Event, X-GitHub-Delivery, X-Hub-Signature-256,
// the Hookshot user agent), to repositories some installation covers.
// Payloads carry exactly the fields of @octokit/webhooks-schemas 7.6.1
// and are validated against those schemas with santhosh-tekuri/jsonschema
// (draft-07). Every key that all of GitHub's example payloads of an event
// have (@octokit/webhooks-examples: what the schemas leave optional but
// GitHub always sends) is in the emulator's payload too — a test checks it.
//
// # Rate limits
//
// Every authenticated response carries GitHub's X-RateLimit-Limit,
// -Remaining, -Used, -Reset (epoch seconds) and -Resource headers. An
// installation's tokens share one primary budget (5,000 an hour unless
// s.SetRateLimit(RateLimit{Limit, Window, Status}) says otherwise); over it
// a request gets 403 (or 429) with X-RateLimit-Remaining: 0 and GitHub's
// "API rate limit exceeded for installation ID N" until the reset. App (JWT)
// and user-token requests count separately, at 5,000 an hour.
// s.RateLimitUsed(installation) reads the current count.
//
// # Faults
//
//	s.Fault("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", Fault{Status: 502, Times: 2})
//	s.Fault("POST", "/repos/acme/infra/issues/*/comments", Fault{SecondaryRateLimit: true, RetryAfter: time.Second})
//	s.Fault("GET", "...", Fault{Delay: time.Second})
//	s.Fault("POST", "/graphql", Fault{Status: 403})  // GraphQL calls too
//	s.ReplicationLag("/repos/{owner}/{repo}/pulls/{pull_number}", 200*time.Millisecond) // 404s right after webhooks
//
// # The contract
//
// Requests are routed by kin-openapi's gorillamux router over GitHub's
// description and validated with openapi3filter before the handler runs;
// responses are validated after. A method/path GitHub does not have, a
// body or parameter that fails its schema, an operation GitHub has but the
// emulator does not implement, a response that fails its schema, and a
// webhook payload that fails its schema are all recorded as contract
// failures (s.ContractFailures) and fail the test at cleanup; the request
// gets a 500 naming the problem. Tests that provoke one on purpose call
// s.TakeContractFailures.
//
// The description is loaded and parsed once per process (about 0.6 s):
// only the operations the emulator serves are parsed in full, with the
// components they reach; every other operation is kept as a stub so its
// path still routes.
//
// Exceptions and adjustments, all of them:
//
//   - /graphql (and /api/graphql) is not in the REST description. It
//     answers the minimizeComment and enqueuePullRequest mutations only,
//     with exactly the fields the query selects; any other query is a "not
//     emulated" failure. enqueuePullRequest needs contents: write.
//   - The tarball download URL (/_download/{token}, where
//     GET /repos/{o}/{r}/tarball/{ref} redirects with 302, like codeload)
//     is not in the description either.
//   - The HTML pages (/ and /{owner}/{repo}/pull/{n}, and their forms) are
//     the emulator's own.
//   - The GitHub App manifest flow's web side (POST /settings/apps/new and
//     /organizations/{org}/settings/apps/new with the form's `manifest`
//     and `state`, redirecting to the manifest's redirect_url with a code;
//     the install page /apps/{slug}/installations/new) is GitHub's web, not
//     its REST API. The code's exchange, POST
//     /app-manifests/{code}/conversions, is in the description and checked
//     like every operation; it needs no credentials, answers a code once
//     and within an hour (404 after). Registering an App replaces the
//     emulator's App (manifest.go): its id, key, webhook secret, bot
//     account, permissions for new installations, webhook URL and
//     subscribed events become the manifest's.
//   - contents/{path} and rules/branches/{branch} may contain slashes
//     (OpenAPI 3.0 path parameters cannot; go-github escapes neither), and
//     contents/ (the root) is routed as path "/".
//   - A request body that is the JSON literal null counts as no body:
//     ghinstallation sends one to access_tokens and GitHub accepts it.
//   - Limits the description does not state are enforced by the emulator
//     with GitHub's 422 ("body is too long (maximum is 65536
//     characters)"): comment and issue bodies 65,536 characters, status
//     and deployment status descriptions 140, check-run output summary and
//     text 65,535,
//     annotations 50 per request, actions 3 with label and identifier ≤ 20
//     and description ≤ 40. Where the description does state a limit
//     (maxLength, maxItems), the request is a contract failure and still
//     gets GitHub's 422.
//   - A pull request's head.repo may be null (its fork was deleted), as
//     GitHub's webhook schemas and API have it; the REST description says
//     it is not nullable, so description_fixes.go corrects it.
//   - GitHub's description types /app/installations' account as allOf(user,
//     enterprise); accounts there carry the enterprise's fields too.
//
// # The pull request page
//
// GET /{owner}/{repo}/pull/{n} renders the conversation (Markdown via
// goldmark with GFM; raw HTML such as <details> is kept, as GitHub does),
// reviews, check runs (summary and text as Markdown, action buttons on
// completed runs), statuses (of the head, and of the merge commit once
// merged), deployments of the head ("deployed to staging", with the latest
// state and links) and the merge box, with forms to comment, review, merge
// (or "merge when ready" into a merge queue) and press check-run buttons
// as any known user. The forms
// change state and emit the same webhooks as the API would.
package githubtest
