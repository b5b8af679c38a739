package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// badgeKeyLabel derives the badge key from the digest key, so badge and
// status tokens can be rotated (by a new label) apart from plan digests,
// and a token reveals nothing about the digest key.
const badgeKeyLabel = "badge-v1"

// tokenBytes is a token's length: 128 bits cannot be guessed, and keep
// badge URLs short enough to paste.
const tokenBytes = 16

// BadgeKey derives the key of badge and status-page tokens from the
// server's digest key: HMAC-SHA256(digestKey, "badge-v1").
func BadgeKey(digestKey []byte) []byte { return mac(digestKey, badgeKeyLabel) }

// BadgeToken is the ?token= of a private repository's badge of env:
// HMAC-SHA256(badgeKey, lower(owner/name) + "/" + env), 32 hex digits.
// GitHub names are case-insensitive, so the token is too.
func BadgeToken(badgeKey []byte, repo, env string) string {
	return hex.EncodeToString(mac(badgeKey, repoKey(repo)+"/"+env)[:tokenBytes])
}

// StatusToken is the ?token= of a private repository's status page:
// HMAC-SHA256(badgeKey, lower(owner/name)), 32 hex digits. It differs from
// every badge token, whose input has one more slash.
func StatusToken(badgeKey []byte, repo string) string {
	return hex.EncodeToString(mac(badgeKey, repoKey(repo))[:tokenBytes])
}

// tokenOK compares a presented token with the expected one in constant
// time (the length is public).
func tokenOK(got, want string) bool {
	return hmac.Equal([]byte(strings.ToLower(got)), []byte(want))
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
