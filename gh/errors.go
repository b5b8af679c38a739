package gh

import (
	"errors"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// notAccessible is GitHub's message when the installation lacks a
// permission the call needs (an account has not yet accepted a permission
// the App added).
const notAccessible = "Resource not accessible by integration"

// IsPermissionMissing reports whether err is GitHub refusing a call because
// the App's installation lacks a permission: a REST 403 "Resource not
// accessible by integration", or the GraphQL error of the same text.
// Callers report it once ("accept the App's new permissions") rather than
// as a failure of their own.
func IsPermissionMissing(err error) bool {
	if err == nil {
		return false
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Response != nil && er.Response.StatusCode == http.StatusForbidden && strings.Contains(er.Message, notAccessible)
	}
	// githubv4 returns GraphQL errors as plain errors carrying their messages.
	return strings.Contains(err.Error(), notAccessible)
}
