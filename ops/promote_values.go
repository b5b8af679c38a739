package ops

import (
	"path"
	"slices"
	"strconv"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/release"
)

// promoteValues copies to.Promote.Values from what from deploys — its set
// entries, then its values files (last first), then its chart's
// values.yaml, as Helm merges them — into to's last values file (its most
// specific), editing that file's YAML so the rest stays as written. The
// new content goes into files; p gets what changed.
func promoteValues(from, to config.Environment, commit string, fromFiles, toFiles FileReader, files map[string][]byte, p *comments.Promotion) (*comments.Reason, error) {
	dst := to.Helm.Values[len(to.Helm.Values)-1]
	cur, ok := files[dst]
	if !ok {
		data, found, err := toFiles(dst)
		if err != nil {
			return nil, err
		}
		if found {
			cur = data
		}
	}
	changedAny := false
	for _, key := range to.Promote.Values {
		v, reason, err := deployedValue(from, key, commit, fromFiles)
		if err != nil || reason != nil {
			return reason, err
		}
		before := ""
		if old, found, err := release.LookupValue(cur, key); err == nil && found {
			before = release.ValueText(old)
		}
		out, changed, err := release.SetValue(cur, key, v)
		if err != nil {
			r := comments.ReasonOther(dst + ": " + err.Error())
			return &r, nil
		}
		if changed {
			cur, changedAny = out, true
			p.Values = append(p.Values, comments.PromotedValue{Path: key, File: dst, Before: before, After: release.ValueText(v)})
		}
	}
	if changedAny {
		files[dst] = cur
	}
	return nil, nil
}

// deployedValue is the value of key that from renders with.
func deployedValue(from config.Environment, key, commit string, fromFiles FileReader) (*yaml.Node, *comments.Reason, error) {
	for _, s := range slices.Backward(from.Helm.Set) {
		if s.Key == key {
			return setNode(s.Value), nil, nil
		}
	}
	sources := slices.Clone(from.Helm.Values)
	slices.Reverse(sources)
	sources = append(sources, path.Join(from.Helm.Chart, "values.yaml"))
	for _, f := range sources {
		data, found, err := fromFiles(f)
		if err != nil {
			return nil, nil, err
		}
		if !found {
			continue
		}
		v, found, err := release.LookupValue(data, key)
		if err != nil {
			r := comments.ReasonOther(f + ": " + err.Error())
			return nil, &r, nil
		}
		if found {
			return v, nil, nil
		}
	}
	r := comments.ReasonOther(key + " is not set in what " + from.Name + " deploys at " + comments.ShortSHA(commit) + " (its set:, values files and chart values)")
	return nil, &r, nil
}

// setNode is a set: entry's value as YAML, typed as helm's --set types it:
// true, false, null and whole numbers as such, anything else a string
// (quoted, so "1.5" stays one).
func setNode(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: v}
	if _, err := strconv.ParseInt(v, 10, 64); err == nil || v == "true" || v == "false" || v == "null" {
		return n
	}
	n.Style = yaml.DoubleQuotedStyle
	return n
}
