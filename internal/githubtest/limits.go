package githubtest

import (
	"fmt"
	"unicode/utf8"
)

// GitHub's documented limits. Its API description sets no maxLength for
// them, so the emulator enforces them itself, with GitHub's messages.
const (
	maxCommentBody       = 65536 // issue and pull request comments, issue bodies
	maxCheckRunOutput    = 65535 // check run output.summary and output.text
	maxAnnotations       = 50    // per create or update request
	maxActions           = 3
	maxActionLabel       = 20
	maxActionIdentifier  = 20
	maxActionDescription = 40
	maxStatusDescription = 140
)

// tooLong returns GitHub's 422 entry when s is longer than max characters.
func tooLong(resource, field, s string, max int) *fieldError {
	if utf8.RuneCountInString(s) <= max {
		return nil
	}
	return &fieldError{
		Resource: resource, Field: field, Code: "custom",
		Message: fmt.Sprintf("%s is too long (maximum is %d characters)", field, max),
	}
}

var errCannotDismiss = fmt.Errorf("Can not dismiss a commented pull request review")

var (
	errEmptyComment  = fmt.Errorf("body cannot be blank")
	errTooLong       = fmt.Errorf("body is too long (maximum is %d characters)", maxCommentBody)
	errUnknownReview = fmt.Errorf("unknown review state")
	errOwnPR         = fmt.Errorf("Can not approve your own pull request")
)
