package kubetest

import (
	"path/filepath"
	"sort"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func (c *Cluster) kubeconfigPath(user string) string {
	return filepath.Join(c.dir, user+".kubeconfig")
}

// writeKubeconfigs writes one kubeconfig per user (admin included), each
// with a single context named after the cluster, for kubectl and for
// clients loading kubeconfig files.
func (c *Cluster) writeKubeconfigs() error {
	users := map[string]string{"admin": c.adminToken}
	for u, tok := range c.userTokens {
		users[u] = tok
	}
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	for _, u := range names {
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters[c.name] = &clientcmdapi.Cluster{Server: c.host, CertificateAuthorityData: c.pki.caPEM}
		cfg.AuthInfos[u] = &clientcmdapi.AuthInfo{Token: users[u]}
		cfg.Contexts[c.name] = &clientcmdapi.Context{Cluster: c.name, AuthInfo: u}
		cfg.CurrentContext = c.name
		if err := clientcmd.WriteToFile(*cfg, c.kubeconfigPath(u)); err != nil {
			return err
		}
	}
	return nil
}
