package comments

import (
	"strings"
	"testing"
	"time"
)

func TestPromotionTitleAndBody(t *testing.T) {
	p := Promotion{From: "staging", To: "prod", Commit: "4f2a9c1d0000000000000000000000000000000f", PR: 12,
		Deployed: time.Date(2026, 12, 2, 4, 5, 0, 0, time.UTC), Requester: "alice",
		Images: []PromotedImage{
			{Name: "ghcr.io/acme/web", Before: "ghcr.io/acme/web:1.5.0", After: "ghcr.io/acme/web:1.6.0", Version: "1.6.0"},
			{Name: "api", After: "api:2.3.1", Version: "2.3.1"},
		},
		Files: []string{"deploy/prod/app.env"}}
	if got := PromotionTitle(p); got != "Promote staging → prod: web 1.6.0, api 2.3.1, 1 file" {
		t.Errorf("title = %q", got)
	}
	body := PromotionBody(p)
	for _, want := range []string{
		"Makes **prod** run what **staging** runs now: commit `4f2a9c1` (#12), deployed 2026-12-02 04:05 UTC.",
		"| `ghcr.io/acme/web` | `ghcr.io/acme/web:1.5.0` | `ghcr.io/acme/web:1.6.0` |",
		"| `api` | _(not set)_ | `api:2.3.1` |",
		"- `deploy/prod/app.env`",
		"<!-- tugboat:promotion requested-by=alice -->",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	renderMarkdown(t, body)
	if got := PromotionRequester(body); got != "alice" {
		t.Errorf("requester = %q", got)
	}
	if got := PromotionRequester("<!-- tugboat:promotion requested-by=@x y -->"); got != "" {
		t.Errorf("a malformed marker gave %q", got)
	}
	if got := PinText(Pin{Env: "prod", Commit: "4f2a9c1d00", By: "alice"}); got != "pinned at 4f2a9c1 by alice" {
		t.Errorf("pin text = %q", got)
	}
}
