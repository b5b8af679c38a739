package githubtest

import "time"

// The types below are the emulator's state. Every field is guarded by
// Server.mu; inspection methods hand out copies.

// User is a GitHub account: a person, an organization or the app's bot.
type User struct {
	ID    int64
	Login string
	// Type is "User", "Organization" or "Bot", as GitHub reports it.
	Type string
}

// App is the GitHub App the bot authenticates as.
type App struct {
	ID   int64
	Slug string
	Name string
	// PrivateKeyPEM is the app's RSA private key (PKCS#1 PEM), as GitHub
	// hands it out: give it to ghinstallation or go-githubapp.
	PrivateKeyPEM []byte
	// WebhookSecret signs deliveries (X-Hub-Signature-256).
	WebhookSecret string

	// registered is what the manifest flow set (manifest.go); nil for the
	// built-in App and other Apps.
	registered *registration
}

// Installation is the app installed on an account, for some or all of its repositories.
type Installation struct {
	ID      int64
	Account *User
	// Repos lists "owner/name" of the repositories it covers; empty means all of the account's.
	Repos     []string
	CreatedAt time.Time
	// permissions are what the account accepted: permission -> read | write.
	permissions map[string]string
}

// repo is a repository with its git storage on disk.
type repo struct {
	id            int64
	owner         *User
	name          string
	private       bool
	defaultBranch string
	gitDir        string
	createdAt     time.Time
	pushedAt      time.Time

	nextNumber  int // issues and pull requests share one sequence, as on GitHub
	pulls       map[int]*pullRequest
	issues      map[int]*issue
	comments    []*comment // issue and PR conversation comments, in creation order
	checkRuns   []*checkRun
	statuses    []*status
	permissions map[string]string // login -> admin | maintain | write | triage | read
	protection  map[string]*BranchProtection
	suites      map[string]int64      // head sha -> check suite id (one app, one suite per commit)
	commitCache map[string]commitInfo // commits never change, so their details are cached
	deployments []*deployment         // in creation order
	rulesets    []*ruleset
	queues      map[string][]*queueEntry // base branch -> merge queue, front first
	// fork is set on forks; their pull requests into the parent carry head.repo = the fork.
	fork *repo
	// deleted: DeleteRepo removed it; pull requests from it show head.repo null.
	deleted bool
}

// BranchProtection models what branch protection makes a merge wait for.
type BranchProtection struct {
	// RequiredContexts are status contexts or check-run names that must succeed.
	RequiredContexts []string
	// RequiredApprovals is the number of approving reviews required.
	RequiredApprovals int
}

// Ruleset is a repository ruleset, reduced to the branch rules the
// emulator models: required status checks and the merge queue. Its rules
// show in GET /repos/{owner}/{repo}/rules/branches/{branch} and take part
// in mergeability like branch protection does.
type Ruleset struct {
	Name string
	// Branches are the branches it targets: names or fnmatch patterns
	// ("main", "release/*", with or without refs/heads/), or GitHub's
	// "~DEFAULT_BRANCH" and "~ALL".
	Branches []string
	// RequiredChecks are the status check contexts (or check run names)
	// a required_status_checks rule requires.
	RequiredChecks []string
	// MergeQueue, when set, adds a merge_queue rule: pull requests into the
	// branch merge only through the queue (s.EnqueuePR, GraphQL
	// enqueuePullRequest), never with PUT .../merge.
	MergeQueue *MergeQueue
}

// MergeQueue is a merge_queue rule's setting.
type MergeQueue struct {
	// Method is how the queue merges: MERGE (the default), SQUASH, or
	// REBASE (modelled as SQUASH: one new commit on the base).
	Method string
}

type ruleset struct {
	id int64
	Ruleset
}

// pullRequest is a pull request; its issue-side (comments, number) lives in repo.
type pullRequest struct {
	number    int
	id        int64
	title     string
	body      string
	author    *User
	headRepo  *repo
	headRef   string
	headSHA   string
	baseRef   string
	baseSHA   string // base branch head when mergeability was last computed
	draft     bool
	state     string // open | closed
	merged    bool
	mergedBy  *User
	mergedAt  *time.Time
	closedAt  *time.Time
	createdAt time.Time
	updatedAt time.Time

	mergeCommitSHA string // last successful test merge (kept on conflict, as GitHub does)
	conflict       bool
	behind         bool // the base has commits the head lacks
	stats          diffStats
	// unknownUntil: mergeable is reported null until then (GitHub is computing it).
	unknownUntil time.Time
	reviews      []*review
}

// diffStats are a pull request's numbers, computed with git whenever
// either branch moves, so rendering a pull request runs no git at all.
type diffStats struct {
	additions, deletions, changedFiles, commits int
}

// issue is an issue (not a pull request).
type issue struct {
	number    int
	id        int64
	title     string
	body      string
	author    *User
	state     string // open | closed
	labels    []string
	createdAt time.Time
	updatedAt time.Time
	closedAt  *time.Time
}

// comment is an issue comment, on an issue or a pull request.
type comment struct {
	id        int64
	issue     int // issue or PR number
	body      string
	author    *User
	createdAt time.Time
	updatedAt time.Time
	minimized string // classifier, empty unless minimized via GraphQL
	deleted   bool
	reactions []*reaction
}

type reaction struct {
	id        int64
	content   string
	user      *User
	createdAt time.Time
}

// review is a pull request review.
type review struct {
	id          int64
	author      *User
	state       string // APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
	body        string
	commitID    string
	submittedAt time.Time
}

// checkRun is a check run with its whole history of annotations.
type checkRun struct {
	id          int64
	suiteID     int64
	name        string
	headSHA     string
	externalID  string
	detailsURL  string
	status      string
	conclusion  string
	startedAt   time.Time
	completedAt *time.Time
	title       string
	summary     string
	text        string
	annotations []map[string]any
	actions     []map[string]any
	app         *App
}

// deployment is a GitHub Deployment with its statuses.
type deployment struct {
	id                    int64
	sha, ref, task        string
	environment, original string // current environment, and the one it was created for
	description           string
	payload               any
	creator               *User
	transient, production bool
	createdAt, updatedAt  time.Time
	statuses              []*deploymentStatus // oldest first
}

// deploymentStatus is one status of a deployment.
type deploymentStatus struct {
	id                        int64
	state, description        string
	environment               string
	targetURL, logURL, envURL string
	creator                   *User
	createdAt                 time.Time
}

// queueEntry is a pull request in a merge queue with the merge group
// built for it: the base (the entry before it, or the branch head) merged
// with the pull request's head.
type queueEntry struct {
	pr      *pullRequest
	prHead  string // the pull request's head the group was built from
	baseSHA string // the group's parent on the base branch side
	headSHA string // the group commit
	ref     string // refs/heads/gh-readonly-queue/<base>/pr-<n>-<head>
	by      *User
}

// status is a commit status.
type status struct {
	id          int64
	sha         string
	state       string
	targetURL   string
	description string
	context     string
	creator     *User
	createdAt   time.Time
}
