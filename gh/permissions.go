package gh

import (
	"context"
	"fmt"
	"net/url"
)

// Permission is user's role on repo: "admin", "maintain", "write",
// "triage", "read" or "none". GitHub's role_name is used where it names one
// of these (it tells maintain from write and triage from read, which the
// coarse permission field does not); a custom role falls back to the
// coarse permission. A user GitHub does not know (404) has "none".
func (c *Client) Permission(ctx context.Context, repo Repo, user string) (string, error) {
	// go-github v60's RepositoryPermissionLevel has no role_name.
	var out struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", repo.Owner, repo.Name, url.PathEscape(user))
	req, err := c.v3.NewRequest("GET", u, nil)
	if err != nil {
		return "", fmt.Errorf("permission of %s on %s: %w", user, repo, err)
	}
	if _, err := c.v3.Do(ctx, req, &out); err != nil {
		if IsNotFound(err) {
			return "none", nil
		}
		return "", wrap(err, "permission of %s on %s", user, repo)
	}
	switch out.RoleName {
	case "admin", "maintain", "write", "triage", "read", "none":
		return out.RoleName, nil
	}
	if out.Permission == "" {
		return "none", nil
	}
	return out.Permission, nil
}

// TeamMember reports whether user is an active member (or maintainer) of
// org's team teamSlug; a pending invitation is not membership, and GitHub's
// 404 (no such team, or not a member) is false.
func (c *Client) TeamMember(ctx context.Context, org, teamSlug, user string) (bool, error) {
	m, _, err := c.v3.Teams.GetTeamMembershipBySlug(ctx, org, teamSlug, user)
	if err != nil {
		if IsNotFound(err) {
			return false, nil
		}
		return false, wrap(err, "membership of %s in team %s/%s", user, org, teamSlug)
	}
	return m.GetState() == "active", nil
}
