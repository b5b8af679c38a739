package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/palantir/go-githubapp/githubapp"
	yaml "go.yaml.in/yaml/v3"

	"github.com/tugboatops/tugboat"
)

// githubURLs are where a GitHub instance serves people and its APIs, as
// the server config's github: keys (web_url, v3_api_url, v4_api_url) want
// them.
type githubURLs struct {
	Web, V3, V4 string
}

// githubURLsFor derives the API URLs from GitHub's web URL: github.com's
// APIs live on api.github.com, GitHub Enterprise Server's under /api/v3
// and /api/graphql of its own host.
func githubURLsFor(web string) (githubURLs, error) {
	u, err := url.Parse(strings.TrimRight(web, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return githubURLs{}, fmt.Errorf("--github-url %q: want GitHub's web address, like https://github.com or https://ghe.example.com", web)
	}
	w := u.String()
	if strings.EqualFold(u.Host, "github.com") || strings.EqualFold(u.Host, "www.github.com") {
		return githubURLs{Web: "https://github.com", V3: "https://api.github.com/", V4: "https://api.github.com/graphql"}, nil
	}
	return githubURLs{Web: w, V3: w + "/api/v3/", V4: w + "/api/graphql"}, nil
}

// publicURLOf checks --public-url: where GitHub and people reach the bot.
func publicURLOf(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--public-url %q: want the bot's public address, like https://tugboat.example.com", raw)
	}
	return u.String(), nil
}

// newAppForm is the page's form action: GitHub's "register a new App from
// a manifest" for the person's account or for org, with state in the
// query, as GitHub's documentation has it.
func newAppForm(gh githubURLs, org, state string) string {
	path := "/settings/apps/new"
	if org != "" {
		path = "/organizations/" + url.PathEscape(org) + "/settings/apps/new"
	}
	return gh.Web + path + "?state=" + url.QueryEscape(state)
}

// appManifestJSON is app.yaml as the JSON the form posts: its homepage and
// webhook URL on the public URL, its redirect to the local callback, and
// its name replaced when name is set (App names are unique on a GitHub
// instance). It returns the App's name too.
func appManifestJSON(publicURL, callback, name string) ([]byte, string, error) {
	var m map[string]any
	if err := yaml.Unmarshal(tugboat.AppManifest(), &m); err != nil {
		return nil, "", fmt.Errorf("read app.yaml: %w", err)
	}
	if name != "" {
		m["name"] = name
	}
	hook, ok := m["hook_attributes"].(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("read app.yaml: no hook_attributes")
	}
	hook["url"] = publicURL + githubapp.DefaultWebhookRoute
	m["url"] = publicURL
	m["redirect_url"] = callback
	data, err := json.Marshal(m)
	if err != nil {
		return nil, "", fmt.Errorf("app.yaml as JSON: %w", err)
	}
	n, _ := m["name"].(string)
	return data, n, nil
}
