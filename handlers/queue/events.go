package queue

// EventOther is the event label of every X-GitHub-Event value GitHub does
// not send.
const EventOther = "other"

// knownEvents are GitHub's webhook event names
// (docs.github.com/webhooks/webhook-events-and-payloads). The event label
// takes only these: the header is read before the signature is checked, so
// any other value would let an unauthenticated client mint a metric series
// per request.
var knownEvents = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range []string{
		"branch_protection_configuration", "branch_protection_rule", "check_run", "check_suite",
		"code_scanning_alert", "commit_comment", "create", "custom_property", "custom_property_values",
		"delete", "dependabot_alert", "deploy_key", "deployment", "deployment_protection_rule",
		"deployment_review", "deployment_status", "discussion", "discussion_comment", "fork",
		"github_app_authorization", "gollum", "installation", "installation_repositories",
		"installation_target", "issue_comment", "issues", "label", "marketplace_purchase", "member",
		"membership", "merge_group", "meta", "milestone", "org_block", "organization", "package",
		"page_build", "personal_access_token_request", "ping", "project", "project_card",
		"project_column", "projects_v2", "projects_v2_item", "projects_v2_status_update", "public",
		"pull_request", "pull_request_review", "pull_request_review_comment",
		"pull_request_review_thread", "push", "registry_package", "release", "repository",
		"repository_advisory", "repository_dispatch", "repository_import", "repository_ruleset",
		"repository_vulnerability_alert", "secret_scanning_alert", "secret_scanning_alert_location",
		"secret_scanning_scan", "security_advisory", "security_and_analysis", "sponsorship", "star",
		"status", "sub_issues", "team", "team_add", "watch", "workflow_dispatch", "workflow_job",
		"workflow_run",
	} {
		m[e] = true
	}
	return m
}()

// EventLabel is the metric label of an X-GitHub-Event value: the event
// itself when GitHub sends such events, else EventOther.
func EventLabel(event string) string {
	if knownEvents[event] {
		return event
	}
	return EventOther
}
