package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/tugboatops/tugboat/internal/yamlerr"
)

// Server is the bot's own configuration. Credentials live here, never in a
// repository. More sections (the GitHub App) join it as later issues need
// them; every key it does not know is an error, so a typo never silently
// drops a setting.
type Server struct {
	// Clusters is the cluster registry: the names .tugboat.yaml's
	// environments refer to.
	Clusters map[string]Cluster `yaml:"clusters"`
	// DigestKeyFile holds the key of the plan digest's Secret HMAC. `bot
	// serve` requires it (LoadServerApp), since replicas must share it. For
	// local commands, empty means DefaultDigestKeyFile, created on first use.
	DigestKeyFile string `yaml:"digest_key_file"`
	// App is the GitHub App's part (server_app.go).
	App `yaml:",inline"`
	// Web configures the badges and status pages (server_web.go).
	Web Web `yaml:"web"`
}

// Cluster says how to reach one cluster: a kubeconfig (optionally one of
// its contexts; empty means its current context), or the bot's own
// in-cluster service account.
type Cluster struct {
	Kubeconfig string `yaml:"kubeconfig"`
	Context    string `yaml:"context"`
	InCluster  bool   `yaml:"in_cluster"`
	// Repositories limits which repositories' .tugboat.yaml may name the
	// cluster: "owner/name" patterns in path.Match syntax ("acme/*"),
	// matched case-insensitively. Absent: every repository the bot serves.
	Repositories []string `yaml:"repositories"`
}

// ClusterAllows reports whether repository repoFullName ("owner/name") may
// use cluster: the cluster's `repositories` patterns match it, or it has
// none. A cluster the registry does not know is allowed here — it is no
// one's to use, and planning reports it per environment ("not in the
// server's cluster registry") rather than failing the whole file.
func (s *Server) ClusterAllows(cluster, repoFullName string) bool {
	c, ok := s.Clusters[cluster]
	if !ok {
		return true
	}
	return c.Repositories == nil || matchRepo(c.Repositories, repoFullName)
}

// matchRepo reports whether "owner/name" matches one of patterns (path.Match
// syntax; GitHub names are case-insensitive).
func matchRepo(patterns []string, fullName string) bool {
	for _, pattern := range patterns {
		if ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(fullName)); ok {
			return true
		}
	}
	return false
}

// checkRepoPattern checks an "owner/name" pattern: two parts, each a
// valid path.Match pattern.
func checkRepoPattern(pattern string) error {
	owner, name, ok := strings.Cut(pattern, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("%q: want owner/name, either part may be a pattern like acme/*", pattern)
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("%q: %v", pattern, err)
	}
	return nil
}

// ParseServer parses and validates the server configuration. file names it
// in errors; relative kubeconfig and key paths stay as written (LoadServer
// resolves them against the file's directory). On invalid input the error
// is an Errors holding every problem found.
func ParseServer(data []byte, file string) (*Server, error) {
	p := &problems{file: file}
	root := p.parseDocument(data)
	if root == nil {
		return nil, p.errs
	}
	var s Server
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			p.add(0, "%v", err)
			return nil, p.errs
		}
		for _, msg := range te.Errors {
			line, msg := yamlerr.SplitLine(msg)
			p.add(line, "%s", msg)
		}
	}
	p.checkClusters(&s, root)
	p.checkWeb(&s, root)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		return nil, p.errs
	}
	return &s, nil
}

func (p *problems) checkClusters(s *Server, root *yaml.Node) {
	clustersNode := lookup(root, "clusters")
	names := make([]string, 0, len(s.Clusters))
	for name := range s.Clusters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := s.Clusters[name]
		line := 0
		if clustersNode != nil {
			line = keyLine(clustersNode, name)
		}
		where := "clusters." + name
		switch {
		case name == "":
			p.add(line, "clusters: a cluster needs a name")
		case c.InCluster && (c.Kubeconfig != "" || c.Context != ""):
			p.add(line, "%s: in_cluster cannot be combined with kubeconfig or context", where)
		case !c.InCluster && c.Kubeconfig == "":
			p.add(line, "%s: want kubeconfig: PATH (and optionally context: NAME) or in_cluster: true", where)
		}
		p.checkClusterRepositories(c, where, line, lookup(lookup(clustersNode, name), "repositories"))
	}
}

// checkClusterRepositories checks clusters.NAME.repositories, at the line
// of each bad pattern (n is the list's node, nil when not found).
func (p *problems) checkClusterRepositories(c Cluster, where string, line int, n *yaml.Node) {
	if c.Repositories == nil {
		return
	}
	at := where + ".repositories"
	if n != nil {
		line = n.Line
	}
	if len(c.Repositories) == 0 {
		p.add(line, "%s: empty list: leave it out to let every repository the bot serves use the cluster, or list owner/name patterns", at)
		return
	}
	for i, pattern := range c.Repositories {
		l := line
		if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
			l = n.Content[i].Line
		}
		if err := checkRepoPattern(pattern); err != nil {
			p.add(l, "%s[%d]: %v", at, i, err)
		}
	}
}

// lookup returns the value of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolveAlias(m.Content[i+1])
		}
	}
	return nil
}

func keyLine(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i].Line
		}
	}
	return m.Line
}

// LoadServer reads and parses the server configuration file at path.
// Relative kubeconfig and digest key paths are taken relative to the
// file's directory, so the config works wherever the bot is started from.
func LoadServer(path string) (*Server, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read server config: %w", err)
	}
	s, err := ParseServer(data, path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	for name, c := range s.Clusters {
		if c.Kubeconfig != "" && !filepath.IsAbs(c.Kubeconfig) {
			c.Kubeconfig = filepath.Join(dir, c.Kubeconfig)
			s.Clusters[name] = c
		}
	}
	if s.DigestKeyFile != "" && !filepath.IsAbs(s.DigestKeyFile) {
		s.DigestKeyFile = filepath.Join(dir, s.DigestKeyFile)
	}
	return s, nil
}
