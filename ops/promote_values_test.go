package ops

import (
	"strings"
	"testing"

	"github.com/tugboatops/tugboat/comments"
	"github.com/tugboatops/tugboat/config"
)

func readerOf(files map[string]string) FileReader {
	return func(p string) ([]byte, bool, error) {
		d, ok := files[p]
		return []byte(d), ok, nil
	}
}

// promote.values copies what the source environment deploys (set entries
// over values files over chart values) into the target's last values
// file, keeping the rest of that file as written.
func TestPromotionFilesHelmValues(t *testing.T) {
	from := config.Environment{Name: "staging", Helm: &config.Helm{Chart: "charts/shop",
		Values: []string{"charts/shop/values-staging.yaml", "env/staging.yaml"},
		Set:    []config.HelmSet{{Key: "feature", Value: "1.5"}}}}
	to := config.Environment{Name: "prod", Helm: &config.Helm{Chart: "charts/shop", Values: []string{"charts/shop/values-prod.yaml"}},
		Promote: &config.Promote{From: "staging", Values: []string{"image.tag", "resources", "feature", "replicas"}}}
	deployed := readerOf(map[string]string{
		"charts/shop/values.yaml":         "replicas: 2\nresources: {limits: {cpu: 200m}}\nimage: {tag: \"1.0.0\"}\n",
		"charts/shop/values-staging.yaml": "image:\n  tag: \"1.4.0\"\n",
		"env/staging.yaml":                "image:\n  tag: \"1.5.0\"\n",
	})
	head := readerOf(map[string]string{
		"charts/shop/values-prod.yaml": "# prod: keep it small\nreplicas: 2 # by hand\nimage:\n  tag: \"1.3.2\"\n",
	})
	files, p, reason, err := PromotionFiles(from, to, "abcdef1234567", deployed, head)
	if err != nil || reason != nil {
		t.Fatalf("reason %v, err %v", reason, err)
	}
	want := "# prod: keep it small\nreplicas: 2 # by hand\nimage:\n  tag: \"1.5.0\"\nresources:\n  limits:\n    cpu: 200m\nfeature: \"1.5\"\n"
	if got := string(files["charts/shop/values-prod.yaml"]); got != want || len(files) != 1 {
		t.Errorf("files %v; values-prod.yaml:\n%s\nwant\n%s", len(files), got, want)
	}
	wantValues := []comments.PromotedValue{
		{Path: "image.tag", File: "charts/shop/values-prod.yaml", Before: "1.3.2", After: "1.5.0"},
		{Path: "resources", File: "charts/shop/values-prod.yaml", Before: "", After: "{limits: {cpu: 200m}}"},
		{Path: "feature", File: "charts/shop/values-prod.yaml", Before: "", After: "1.5"},
	}
	if len(p.Values) != len(wantValues) {
		t.Fatalf("values %+v", p.Values)
	}
	for i := range wantValues {
		if p.Values[i] != wantValues[i] {
			t.Errorf("value %d = %+v, want %+v", i, p.Values[i], wantValues[i])
		}
	}
	if title := comments.PromotionTitle(comments.Promotion{From: "staging", To: "prod", Values: p.Values}); !strings.Contains(title, "image.tag 1.5.0") {
		t.Errorf("title %q", title)
	}
	if body := comments.PromotionBody(comments.Promotion{From: "staging", To: "prod", Values: p.Values}); !strings.Contains(body, "| `image.tag` | `charts/shop/values-prod.yaml` | `1.3.2` | `1.5.0` |") {
		t.Errorf("body:\n%s", body)
	}

	// Nothing to do once prod has it; a value staging does not set is a reason.
	again := readerOf(map[string]string{"charts/shop/values-prod.yaml": want})
	files, _, reason, _ = PromotionFiles(from, to, "abcdef1234567", deployed, again)
	if len(files) != 0 || reason != nil {
		t.Errorf("second promotion: %v %v", files, reason)
	}
	to.Promote.Values = []string{"image.digest"}
	_, _, reason, _ = PromotionFiles(from, to, "abcdef1234567", deployed, head)
	if reason == nil || !strings.Contains(reason.Text(), "image.digest is not set in what staging deploys") {
		t.Errorf("reason %+v", reason)
	}
}
