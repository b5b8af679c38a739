package main

import (
	"fmt"
	"net/url"
	"os"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
)

// runAPIServer starts etcd embedded in this process, then kube-apiserver
// pointing at it. Both share the process so one kill stops both, and a
// restart with the same --etcd-dir keeps every object.
func runAPIServer(args []string) error {
	ours, rest := takeFlags(args, "etcd-dir", "etcd-client-port", "etcd-peer-port")
	dir, clientPort, peerPort := ours["etcd-dir"], ours["etcd-client-port"], ours["etcd-peer-port"]
	if dir == "" || clientPort == "" || peerPort == "" {
		return fmt.Errorf("--etcd-dir, --etcd-client-port and --etcd-peer-port are required")
	}
	clientURL := url.URL{Scheme: "http", Host: "127.0.0.1:" + clientPort}
	peerURL := url.URL{Scheme: "http", Host: "127.0.0.1:" + peerPort}

	cfg := embed.NewConfig()
	cfg.Name = "kubetest"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = fmt.Sprintf("%s=%s", cfg.Name, peerURL.String())
	cfg.LogLevel = "error"
	// A test cluster trades durability for speed: fsync on every write
	// makes etcd the bottleneck of a 1,000-object apply on a shared disk.
	cfg.UnsafeNoFsync = true
	cfg.QuotaBackendBytes = 2 << 30

	etcd, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-etcd.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		etcd.Close()
		return fmt.Errorf("etcd not ready after 60s")
	}

	cmd := apiserver.NewAPIServerCommand()
	cmd.SetArgs(append([]string{"--etcd-servers=" + clientURL.String()}, rest...))
	code := cli.Run(cmd)
	etcd.Close()
	os.Exit(code)
	return nil
}
