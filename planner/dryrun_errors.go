package planner

import (
	"context"
	"errors"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// isUnreachable reports whether err means the cluster could not be talked
// to at all (as opposed to the server answering no). Such errors are
// collapsed into one problem for the environment.
func isUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	var urlErr *url.Error
	return errors.As(err, &netErr) || errors.As(err, &urlErr) ||
		utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) ||
		utilnet.IsProbableEOF(err) || utilnet.IsHTTP2ConnectionLost(err)
}

// immutableInMessage finds "<field>: Invalid value: <value>: ... immutable"
// (or "<field>: ... immutable") in messages whose causes were not
// structured (CEL rules, webhooks).
var immutableInMessage = []*regexp.Regexp{
	regexp.MustCompile(`([A-Za-z0-9_.\[\]-]+): Invalid value: (?:"[^"]*"|[^:]*): [^,:]*immutable`),
	regexp.MustCompile(`([A-Za-z0-9_.\[\]-]+): [^,:]*immutable`),
}

// immutableFields returns the fields the server refused to change because
// they are immutable, or nil when err is about something else.
func immutableFields(err error) []string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return nil
	}
	st := status.Status()
	seen := map[string]bool{}
	var fields []string
	add := func(f string) {
		if f != "" && !seen[f] {
			seen[f] = true
			fields = append(fields, f)
		}
	}
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			if strings.Contains(c.Message, "immutable") {
				add(c.Field)
			}
		}
	}
	if len(fields) == 0 && strings.Contains(st.Message, "immutable") {
		for _, re := range immutableInMessage {
			for _, m := range re.FindAllStringSubmatch(st.Message, -1) {
				add(m[1])
			}
			if len(fields) > 0 {
				break
			}
		}
		if len(fields) == 0 {
			add("(field not named by the server)")
		}
	}
	sort.Strings(fields)
	return fields
}

// structuredMessage describes a server error from its reason and the
// fields it names, without any of the server's free text. It is used for
// Secrets whose values are too short to scrub from free text reliably.
func structuredMessage(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return "the API server rejected the Secret (details withheld: they could contain its values)"
	}
	st := status.Status()
	msg := "the API server rejected the Secret: " + string(st.Reason)
	if st.Details != nil {
		var parts []string
		for _, c := range st.Details.Causes {
			parts = append(parts, c.Field+" ("+string(c.Type)+")")
		}
		if len(parts) > 0 {
			msg += ": " + strings.Join(parts, ", ")
		}
	}
	return msg + " (details withheld: they could contain its values)"
}

// serverMessage is the message an API error carries, for problems.
func serverMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return err.Error()
}

// Admission denials as the API server words them: a ValidatingAdmission-
// Policy's ("<resource> \"<name>\" is forbidden: ValidatingAdmissionPolicy
// '<policy>' with binding '<binding>' denied request: <message>") and a
// webhook's ("admission webhook \"<name>\" denied the request: <message>").
var (
	vapDenial     = regexp.MustCompile(`(?s)^.*? is forbidden: ValidatingAdmissionPolicy '([^']+)' with binding '([^']+)' denied request: (.*)$`)
	webhookDenial = regexp.MustCompile(`(?s)^(?:.*? is forbidden: )?admission webhook "([^"]+)" denied the request(?:: (.*)| without explanation)$`)
)

// readableDenial rewords a denial by the cluster's own policies so it
// reads like one of tugboat's: who denied (policy and binding, or the
// webhook) and why, without the server's preamble. Other messages are
// returned as they are.
func readableDenial(msg string) string {
	if m := vapDenial.FindStringSubmatch(msg); m != nil {
		return "denied by the cluster's ValidatingAdmissionPolicy " + m[1] + " (binding " + m[2] + "): " + m[3]
	}
	if m := webhookDenial.FindStringSubmatch(msg); m != nil {
		why := m[2]
		if why == "" {
			why = "no reason given"
		}
		return "denied by the cluster's admission webhook " + m[1] + ": " + why
	}
	return msg
}
