package e2e

import (
	"bytes"
	"os"
	"reflect"
	"sort"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// app.yaml asks for exactly the permissions and events the bot uses: a
// missing one breaks an installation silently, an extra one is a needless
// ask of every organisation installing it.
func TestAppManifest(t *testing.T) {
	data, err := os.ReadFile("../app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name           string            `yaml:"name"`
		HookAttributes map[string]any    `yaml:"hook_attributes"`
		Permissions    map[string]string `yaml:"default_permissions"`
		Events         []string          `yaml:"default_events"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("app.yaml: %v", err)
	}
	wantPerms := map[string]string{"checks": "write", "contents": "read", "pull_requests": "write",
		"issues": "write", "statuses": "write", "metadata": "read"}
	if !reflect.DeepEqual(m.Permissions, wantPerms) {
		t.Errorf("permissions = %v, want %v", m.Permissions, wantPerms)
	}
	sort.Strings(m.Events)
	want := []string{"check_run", "check_suite", "issue_comment", "pull_request", "pull_request_review", "push"}
	if !reflect.DeepEqual(m.Events, want) {
		t.Errorf("events = %v, want %v (installation is always delivered)", m.Events, want)
	}
	if url, _ := m.HookAttributes["url"].(string); len(url) < 20 || url[len(url)-16:] != "/api/github/hook" {
		t.Errorf("hook url %q does not end in the bot's webhook route", url)
	}
}
