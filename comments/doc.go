// Package comments turns plans and apply results into what people read on
// GitHub — the PR comment set, result comments, check-run output, commit
// status and deployment descriptions, and reply texts — and parses the
// commands people write back (/plan, /apply, /unlock, /help).
//
// Everything here is a pure function of its arguments: no GitHub client, no
// Kubernetes client, no clock. The ops package decides what to render and the
// gh package writes it, so the text can be tested byte for byte with golden
// files and fuzzed for the Markdown it produces.
package comments
