package gh

import (
	"context"
	"testing"

	"github.com/tugboatops/tugboat/internal/githubtest"
)

// Permission tells every role apart (role_name), and a stranger to a
// private repository or an unknown user has none; TeamMember is active
// membership only.
func TestPermissionAndTeamMember(t *testing.T) {
	s, c, repo := emulated(t)
	ctx := context.Background()
	for _, role := range []string{"admin", "maintain", "write", "triage", "read"} {
		s.SetPermission("acme/infra", "u-"+role, role)
	}
	s.CreateRepo("acme/secret", githubtest.RepoOptions{Private: true})
	s.AddUser("stranger")
	for user, want := range map[string]string{
		"u-admin": "admin", "u-maintain": "maintain", "u-write": "write", "u-triage": "triage", "u-read": "read",
		"acme": "admin", // the owner
	} {
		if got, err := c.Permission(ctx, repo, user); err != nil || got != want {
			t.Errorf("Permission(%s) = %q, %v; want %q", user, got, err, want)
		}
	}
	if got, err := c.Permission(ctx, Repo{"acme", "secret"}, "stranger"); err != nil || got != "none" {
		t.Errorf("stranger on a private repository = %q, %v; want none", got, err)
	}
	if got, err := c.Permission(ctx, repo, "nobody-at-all"); err != nil || got != "none" {
		t.Errorf("unknown user (404) = %q, %v; want none", got, err)
	}

	s.AddTeamMember("acme", "platform", "bob", "")
	s.AddTeamMember("acme", "platform", "carol", "maintainer")
	for user, want := range map[string]bool{"bob": true, "carol": true, "dave": false} {
		if got, err := c.TeamMember(ctx, "acme", "platform", user); err != nil || got != want {
			t.Errorf("TeamMember(%s) = %v, %v; want %v", user, got, err, want)
		}
	}
	if got, err := c.TeamMember(ctx, "acme", "no-such-team", "bob"); err != nil || got {
		t.Errorf("unknown team = %v, %v; want false", got, err)
	}
}
