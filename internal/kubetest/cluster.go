// Package kubetest starts real Kubernetes control planes for tests, the
// sandbox and local use: kube-apiserver with etcd embedded in the same
// process, kube-controller-manager, kube-scheduler and kwok managing fake
// Nodes, so Deployments, StatefulSets and Jobs really roll out. A default
// StorageClass and a provisioner running in the calling process bind
// PersistentVolumeClaims, as on any real cluster. RBAC is on; named users
// get their own tokens and no permissions until a test binds some.
//
// The binaries come from the nested module in ./controlplane, built once
// and cached (see EnsureBinary).
package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Cluster is one running control plane.
type Cluster struct {
	name string
	dir  string
	pki  *pki
	host string // https://127.0.0.1:PORT

	adminToken string
	userTokens map[string]string

	mu              sync.Mutex
	apiserver       *process
	others          []*process
	stopProvisioner func()
}

type options struct {
	name        string
	users       []string
	nodes       int
	podsPerNode int
	progress    func(format string, args ...any)
	apf         bool
}

// Option configures New and Start.
type Option func(*options)

// WithName names the cluster (used in kubeconfig contexts and log names).
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithUsers adds token users. They are authenticated but RBAC grants them
// nothing until a test binds a role.
func WithUsers(names ...string) Option {
	return func(o *options) { o.users = append(o.users, names...) }
}

// WithNodes sets the number of fake Nodes and the pods each can hold.
func WithNodes(nodes, podsPerNode int) Option {
	return func(o *options) { o.nodes, o.podsPerNode = nodes, podsPerNode }
}

// WithPriorityAndFairness starts the API server as real clusters run it:
// API Priority and Fairness on, with the default in-flight limits (400
// requests, 200 mutating) as its concurrency. Without it, a cluster has APF
// off and far higher in-flight limits, so benchmarks measure the clients and
// not the server's queueing; with it, they show what a real cluster does
// with the same load.
func WithPriorityAndFairness() Option { return func(o *options) { o.apf = true } }

// WithProgress receives progress lines while the cluster starts.
func WithProgress(f func(format string, args ...any)) Option {
	return func(o *options) { o.progress = f }
}

// New starts a control plane and waits until it serves requests, has a
// Ready Node and runs its controllers. The caller must Close it.
func New(ctx context.Context, opts ...Option) (*Cluster, error) {
	o := options{name: "kubetest", nodes: 4, podsPerNode: 600, progress: func(string, ...any) {}}
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := EnsureBinary(ctx, nil)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubetest-"+o.name+"-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{name: o.name, dir: dir, userTokens: map[string]string{}}
	if err := c.start(ctx, bin, o); err != nil {
		logs := c.Logs()
		c.Close()
		return nil, fmt.Errorf("kubetest: start %s: %w\n%s", o.name, err, logs)
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, bin string, o options) error {
	var err error
	if c.pki, err = newPKI(c.dir); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	c.host = "https://127.0.0.1:" + strconv.Itoa(ports[0])
	if err := c.writeTokens(o.users); err != nil {
		return err
	}
	if err := c.writeKubeconfigs(); err != nil {
		return err
	}

	o.progress("starting kube-apiserver (etcd embedded) on %s", c.host)
	c.apiserver = &process{
		name: "kube-apiserver", bin: bin, logFile: filepath.Join(c.dir, "kube-apiserver.log"),
		args: append([]string{"apiserver",
			"--etcd-dir=" + filepath.Join(c.dir, "etcd"),
			"--etcd-client-port=" + strconv.Itoa(ports[1]),
			"--etcd-peer-port=" + strconv.Itoa(ports[2]),
		}, c.apiserverArgs(ports[0], o.apf)...),
	}
	if err := c.apiserver.start(); err != nil {
		return err
	}
	if err := c.waitReady(ctx, 120*time.Second); err != nil {
		return err
	}
	o.progress("creating the default StorageClass %s and starting its provisioner", StorageClassName)
	if err := c.createStorageClass(ctx); err != nil {
		return err
	}
	c.stopProvisioner = c.startProvisioner()

	o.progress("starting controller-manager, scheduler and kwok")
	schedConfig := filepath.Join(c.dir, "scheduler.yaml")
	if err := os.WriteFile(schedConfig, []byte(schedulerConfig(c.kubeconfigPath("admin"))), 0o644); err != nil {
		return err
	}
	c.others = []*process{
		{name: "kube-controller-manager", bin: bin, args: append([]string{"controller-manager"}, c.controllerManagerArgs()...)},
		{name: "kube-scheduler", bin: bin, args: []string{"scheduler", "--config=" + schedConfig, "--secure-port=0"}},
		{name: "kwok", bin: bin, args: []string{"kwok",
			"--stages-file=" + filepath.Join(c.dir, "kwok-stages.yaml"),
			"--kubeconfig=" + c.kubeconfigPath("admin"),
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
			"--node-lease-duration-seconds=40",
			"--cidr=10.244.0.0/16",
			"--node-ip=10.96.0.10",
			"--node-port=0",
		}},
	}
	for _, p := range c.others {
		p.logFile = filepath.Join(c.dir, p.name+".log")
		if err := p.start(); err != nil {
			return err
		}
	}
	o.progress("creating %d fake nodes (%d pods each)", o.nodes, o.podsPerNode)
	if err := c.createNodes(ctx, o.nodes, o.podsPerNode); err != nil {
		return err
	}
	return c.waitSettled(ctx, 120*time.Second)
}

func (c *Cluster) apiserverArgs(port int, apf bool) []string {
	args := []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(c.dir, "apiserver-certs"),
		"--tls-cert-file=" + c.pki.servingCert,
		"--tls-private-key-file=" + c.pki.servingKey,
		"--token-auth-file=" + filepath.Join(c.dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-key-file=" + c.pki.saPublicKey,
		"--service-account-signing-key-file=" + c.pki.saPrivateKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.0.0.0/16",
		// The advertised address is loopback, which Endpoints reject.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
		"--event-ttl=30m",
	}
	if apf {
		return args
	}
	// Benchmarks send hundreds of concurrent requests; the defaults (and
	// priority-and-fairness queueing) would measure throttling.
	return append(args,
		"--max-requests-inflight=2000",
		"--max-mutating-requests-inflight=1000",
		"--enable-priority-and-fairness=false",
	)
}

func (c *Cluster) controllerManagerArgs() []string {
	return []string{
		"--kubeconfig=" + c.kubeconfigPath("admin"),
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file=" + c.pki.saPrivateKey,
		"--root-ca-file=" + c.pki.caFile,
		"--cluster-name=" + c.name,
		// A 500-Deployment rollout must be limited by CPU, not client-side
		// throttling or a handful of workers.
		"--kube-api-qps=2000",
		"--kube-api-burst=4000",
		"--concurrent-deployment-syncs=25",
		"--concurrent-replicaset-syncs=25",
		"--concurrent-statefulset-syncs=10",
		"--concurrent-gc-syncs=30",
		"--concurrent-namespace-syncs=10",
		"--concurrent-job-syncs=10",
	}
}

func schedulerConfig(kubeconfig string) string {
	return fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %q
  qps: 2000
  burst: 4000
leaderElection:
  leaderElect: false
`, kubeconfig)
}

// writeTokens writes the static token file: an admin in system:masters
// and one token per named user, in no group.
func (c *Cluster) writeTokens(users []string) error {
	c.adminToken = randomToken()
	lines := []string{fmt.Sprintf("%s,admin,admin,system:masters", c.adminToken)}
	for _, u := range users {
		if u == "admin" || strings.ContainsAny(u, ",\n\"") {
			return fmt.Errorf("invalid user name %q", u)
		}
		c.userTokens[u] = randomToken()
		lines = append(lines, fmt.Sprintf("%s,%s,%s", c.userTokens[u], u, u))
	}
	return os.WriteFile(filepath.Join(c.dir, "tokens.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freePorts asks the kernel for n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Name is the cluster's name.
func (c *Cluster) Name() string { return c.name }

// Dir holds the cluster's files: certificates, kubeconfigs, logs, etcd data.
func (c *Cluster) Dir() string { return c.dir }

// Host is the apiserver URL.
func (c *Cluster) Host() string { return c.host }

// RESTConfig is a cluster-admin client config.
func (c *Cluster) RESTConfig() *rest.Config { return c.restConfig(c.adminToken) }

// UserRESTConfig is the client config of a user named in WithUsers.
func (c *Cluster) UserRESTConfig(user string) *rest.Config {
	tok, ok := c.userTokens[user]
	if !ok {
		panic(fmt.Sprintf("kubetest: user %q was not created with WithUsers", user))
	}
	return c.restConfig(tok)
}

func (c *Cluster) restConfig(token string) *rest.Config {
	return &rest.Config{
		Host:            c.host,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.pki.caPEM},
		QPS:             500,
		Burst:           1000,
	}
}

// Kubeconfig is the path of a cluster-admin kubeconfig file.
func (c *Cluster) Kubeconfig() string { return c.kubeconfigPath("admin") }

// UserKubeconfig is the path of a kubeconfig file for a user named in WithUsers.
func (c *Cluster) UserKubeconfig(user string) string {
	if _, ok := c.userTokens[user]; !ok {
		panic(fmt.Sprintf("kubetest: user %q was not created with WithUsers", user))
	}
	return c.kubeconfigPath(user)
}

// Client is a typed cluster-admin clientset.
func (c *Cluster) Client() kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(c.RESTConfig())
}

// Close stops every process and removes the cluster's files.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopProvisioner != nil {
		c.stopProvisioner()
		c.stopProvisioner = nil
	}
	for i := len(c.others) - 1; i >= 0; i-- {
		c.others[i].stop(5 * time.Second)
	}
	if c.apiserver != nil {
		c.apiserver.stop(10 * time.Second)
	}
	if c.dir != "" && os.Getenv("KUBETEST_KEEP") == "" {
		os.RemoveAll(c.dir)
	}
}
