package config

import "errors"

// Server is the bot's own configuration. Credentials live here, never in a
// repository.
type Server struct {
	// Clusters is the cluster registry: the names .tugboat.yaml's
	// environments refer to.
	Clusters map[string]Cluster `yaml:"clusters"`
	// DigestKeyFile holds the key of the plan digest's Secret HMAC. Empty:
	// DefaultDigestKeyFile.
	DigestKeyFile string `yaml:"digest_key_file"`
}

// Cluster says how to reach one cluster: a kubeconfig (optionally one of
// its contexts), or the bot's own in-cluster service account.
type Cluster struct {
	Kubeconfig string `yaml:"kubeconfig"`
	Context    string `yaml:"context"`
	InCluster  bool   `yaml:"in_cluster"`
}

// ParseServer parses and validates the server configuration.
func ParseServer(data []byte, file string) (*Server, error) {
	return nil, errors.New("not implemented yet")
}

// LoadServer reads and parses the server configuration file at path.
func LoadServer(path string) (*Server, error) {
	return nil, errors.New("not implemented yet")
}
