package githubtest

import (
	"net/http"
	"strings"
)

// An installation holds the permissions its account accepted. When an app
// asks for a new permission, each installation keeps the old set until an
// owner accepts the new one; meanwhile GitHub answers the calls that need
// it with 403 "Resource not accessible by integration". Tests reproduce
// that with SetInstallationPermission.

// errNoPermission is GitHub's message for a call the installation's
// permissions do not cover.
const errNoPermission = "Resource not accessible by integration"

// appPermissions is what the app asks for and a new installation grants.
func appPermissions() obj {
	return obj{
		"checks": "write", "contents": "write", "deployments": "write", "issues": "write",
		"members": "read", "merge_queues": "read", "metadata": "read",
		"pull_requests": "write", "statuses": "write",
	}
}

// SetInstallationPermission sets the level installation id holds for one of
// the app's permissions ("deployments", "contents", ...): "read", "write",
// or "" for none, as when the account has not accepted a permission the
// app added. Calls that need more answer 403 "Resource not accessible by
// integration", REST and GraphQL alike.
func (s *Server) SetInstallationPermission(installationID int64, permission, level string) {
	switch level {
	case "", "read", "write":
	default:
		s.fatalf("SetInstallationPermission: level %q is not read, write or empty", level)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst, ok := s.installations[installationID]
	if !ok {
		s.fatalf("SetInstallationPermission: no installation %d", installationID)
		return
	}
	if level == "" {
		delete(inst.permissions, permission)
		return
	}
	inst.permissions[permission] = level
}

// permissionsOf copies what inst was granted. Callers hold s.mu.
func permissionsOf(inst *Installation) obj {
	out := obj{}
	for k, v := range inst.permissions {
		out[k] = v
	}
	return out
}

// newPermissions is what a new installation of the App grants: what it
// asks for (its manifest's permissions when it was registered from one).
// Callers hold s.mu.
func (s *Server) newPermissions() map[string]string {
	out := map[string]string{}
	if s.app.registered != nil {
		for k, v := range s.app.registered.permissions {
			out[k] = v
		}
		return out
	}
	for k, v := range appPermissions() {
		out[k] = v.(string)
	}
	return out
}

// requiredPermission is the permission and level an installation needs for
// an operation (method and OpenAPI path template), after GitHub's
// "Permissions required for GitHub Apps".
func requiredPermission(method, path string) (name, level string) {
	level = "read"
	if method != http.MethodGet {
		level = "write"
	}
	switch {
	case strings.Contains(path, "/deployments"):
		return "deployments", level
	case method == http.MethodPut && strings.HasSuffix(path, "/merge"):
		return "contents", "write"
	case strings.Contains(path, "/git/"):
		return "contents", level
	case strings.Contains(path, "/statuses") || strings.HasSuffix(path, "/status"):
		return "statuses", level
	case strings.Contains(path, "/check-runs"):
		return "checks", level
	case strings.Contains(path, "/pulls"):
		return "pull_requests", level
	case strings.Contains(path, "/issues"):
		return "issues", level
	case strings.HasPrefix(path, "/orgs/") && strings.Contains(path, "/teams/"):
		return "members", "read"
	case strings.Contains(path, "/contents/"), strings.Contains(path, "/tarball/"),
		strings.Contains(path, "/commits/"), strings.Contains(path, "/branches/"):
		return "contents", level
	}
	return "metadata", "read"
}

// permitted reports whether p may call the operation: people and the app's
// JWT always may (their access is checked elsewhere); an installation
// needs the permission at the level.
func (s *Server) permitted(p *principal, name, level string) bool {
	if p == nil || p.installation == nil || name == "metadata" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	has := p.installation.permissions[name]
	return has == "write" || has == level
}
