package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the README's .tugboat.yaml reference from the key tables")

const (
	readmeFile       = "../README.md"
	readmeKeysBegin  = "<!-- .tugboat.yaml keys: generated from the tables in config/repo.go and config/repo_env.go; `go test ./config -run README -update` rewrites this part -->\n"
	readmeKeysEnd    = "<!-- end of .tugboat.yaml keys -->\n"
	readmeYAMLHeader = "### `.tugboat.yaml` (per repository)"
)

// keyTable renders a key table as the README's Markdown table.
func keyTable[T any](table []key[T]) string {
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n|---|---|---|\n")
	for _, k := range table {
		def := k.def
		if k.required {
			def = "— (required)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.name, def, k.doc)
	}
	return b.String()
}

func readmeKeys() string {
	return readmeKeysBegin + "\nTop level:\n\n" + keyTable(repoKeys) +
		"\nPer environment (under `environments.NAME`):\n\n" + keyTable(envKeys) +
		"\nPer policy (under `policies[]`, in .tugboat.yaml or the `policies_from` file):\n\n" + keyTable(policyKeys) + "\n" + readmeKeysEnd
}

// The README's reference lists exactly the keys the parser knows, with the
// docs of the tables: a key added as a row shows up there (after -update),
// and a README edit that drifts from the code fails here.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	for _, k := range repoKeys {
		checkKeyDoc(t, k.name, k.def, k.doc, k.required)
	}
	for _, k := range envKeys {
		checkKeyDoc(t, k.name, k.def, k.doc, k.required)
	}
	for _, k := range policyKeys {
		checkKeyDoc(t, k.name, k.def, k.doc, k.required)
	}
	data, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	begin := strings.Index(readme, readmeKeysBegin)
	end := strings.Index(readme, readmeKeysEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the generated key reference between\n%s…\n%s", readmeKeysBegin, readmeKeysEnd)
	}
	got := readme[begin : end+len(readmeKeysEnd)]
	want := readmeKeys()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(readmeFile, []byte(readme[:begin]+want+readme[end+len(readmeKeysEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's key reference differs from the key tables (go test ./config -run README -update rewrites it); want:\n%s", want)
}

func checkKeyDoc(t *testing.T, name, def, doc string, required bool) {
	t.Helper()
	if doc == "" || strings.ContainsAny(doc+def, "|\n") {
		t.Errorf("key %s: want a one-line doc without '|' (it is a table cell), got %q", name, doc)
	}
	if !required && def == "" {
		t.Errorf("key %s: an optional key needs its default documented", name)
	}
}

// The README's example .tugboat.yaml is valid.
func TestREADMEExampleParses(t *testing.T) {
	data, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	i := strings.Index(readme, readmeYAMLHeader)
	if i < 0 {
		t.Fatalf("README.md lacks %q", readmeYAMLHeader)
	}
	rest := readme[i:]
	start := strings.Index(rest, "```yaml\n")
	if start < 0 {
		t.Fatal("no yaml example after the .tugboat.yaml heading")
	}
	rest = rest[start+len("```yaml\n"):]
	example := rest[:strings.Index(rest, "```")]
	if _, err := ParseRepo([]byte(example), "README.md example"); err != nil {
		t.Errorf("the README's example is invalid:\n%v\n%s", err, example)
	}
}

func TestUnknownKeyMessagesListTheTables(t *testing.T) {
	_, err := ParseRepo([]byte("version: 1\nenvironments:\n  a: {cluster: c, path: a, colour: x}\nextra: 1\n"), "f")
	if err == nil {
		t.Fatal("unknown keys accepted")
	}
	want := []string{
		`f:3: environments.a: unknown key "colour" (want ` + keyNames(envKeys) + `)`,
		`f:4: unknown key "extra" (want ` + keyNames(repoKeys) + `)`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	for _, k := range envKeys {
		if !strings.Contains(want[0], k.name) {
			t.Errorf("the message does not list %s", k.name)
		}
	}
}

func TestReservedEnvironmentNames(t *testing.T) {
	src := "version: 1\nenvironments:\n  staging: {cluster: c, path: s}\n  config: {cluster: c, path: a}\n  apply:\n    cluster: c\n    path: b\n  drift: {cluster: c, path: d}\n  drifted: {cluster: c, path: e}\n"
	_, err := ParseRepo([]byte(src), ".tugboat.yaml")
	if err == nil {
		t.Fatal("reserved names accepted")
	}
	want := []string{
		`.tugboat.yaml:4: environments.config: environment name "config" is reserved`,
		`.tugboat.yaml:5: environments.apply: environment name "apply" is reserved`,
		`.tugboat.yaml:8: environments.drift: environment name "drift" is reserved`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
}

func TestKeyLines(t *testing.T) {
	src := "# comment\nversion: 1\nenvironments:\n  staging:\n    path: s\n\n    cluster: c\n  prod: {cluster: p, path: p}\n"
	cfg, err := ParseRepo([]byte(src), ".tugboat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{
		"version": 2, "environments": 3, "environments.staging": 4, "environments.staging.path": 5,
		"environments.staging.cluster": 7, "environments.prod.cluster": 8, "environments.prod.namespace": 0,
	} {
		if got := cfg.KeyLine(strings.Split(path, ".")...); got != want {
			t.Errorf("KeyLine(%s) = %d, want %d", path, got, want)
		}
	}
	if cfg.File != ".tugboat.yaml" {
		t.Errorf("File = %q", cfg.File)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[string]string{"5m": "5m", "10m": "10m", "1h": "1h", "90s": "1m30s", "1h30m": "1h30m"} {
		got := shortDuration(mustDuration(t, d))
		if got != want {
			t.Errorf("shortDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
