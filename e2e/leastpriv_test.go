package e2e

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tugboatops/tugboat/internal/kubetest"
)

// installDeploy applies deploy/overlays/example to c as an admin would
// (`kubectl apply -k`) and returns a kubeconfig holding a token of its
// ServiceAccount tugboat/tugboat-system from the TokenRequest API: the
// identity a bot installed from deploy/ has, with the RBAC deploy/ grants.
func installDeploy(t *testing.T, c *kubetest.Cluster) string {
	t.Helper()
	dir := t.TempDir()
	src := "../deploy"
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("kubectl", "--kubeconfig", c.Kubeconfig(), "apply", "--server-side", "--force-conflicts",
		"-k", filepath.Join(dir, "overlays/example")).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl apply -k deploy/overlays/example to %s: %v\n%s", c.Name(), err, out)
	}
	tok, err := c.Client().CoreV1().ServiceAccounts("tugboat-system").CreateToken(context.Background(), "tugboat",
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: func(v int64) *int64 { return &v }(3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for tugboat/tugboat-system in %s: %v", c.Name(), err)
	}
	rc := c.RESTConfig()
	kc := clientcmdapi.NewConfig()
	kc.Clusters[c.Name()] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.TLSClientConfig.CAData}
	kc.AuthInfos["tugboat"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["tugboat"] = &clientcmdapi.Context{Cluster: c.Name(), AuthInfo: "tugboat"}
	kc.CurrentContext = "tugboat"
	path := filepath.Join(t.TempDir(), c.Name()+".kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// The real bot, holding only the ServiceAccount token of deploy/ applied to
// its clusters (not an admin's), plans, applies, prunes, and keeps and
// releases locks: deploy/'s RBAC is enough for every flow.
func TestLeastPrivilegeServiceAccount(t *testing.T) {
	kubeconfigs := map[*kubetest.Cluster]string{staging: installDeploy(t, staging), prod: installDeploy(t, prod)}
	w := newWorld(t, options{
		// As deploy/'s server.yaml has it: the replicas coordinate in
		// tugboat-system (here of staging), with deploy/'s Role there.
		extraConfig: "home: {cluster: staging, namespace: tugboat-system}\n",
		nsFiles: func(n string) map[string]string {
			return map[string]string{".tugboat.yaml": strings.Replace(baseFiles(n)[".tugboat.yaml"], "    apply: on-comment\n", "    apply: on-comment\n    prune: true\n", 1)}
		},
		editConfig: func(cfg string) string {
			for c, kc := range kubeconfigs {
				cfg = strings.Replace(cfg, "{kubeconfig: "+c.Kubeconfig()+"}", "{kubeconfig: "+kc+"}", 1)
			}
			if strings.Contains(cfg, staging.Kubeconfig()) || strings.Contains(cfg, prod.Kubeconfig()) {
				t.Fatalf("the bot's config still names an admin kubeconfig:\n%s", cfg)
			}
			return cfg
		},
	})
	w.gh.SetPermission(w.repo, "carol", "write")

	// Plan and apply: a changed ConfigMap and a new one.
	n1, sha := w.openPR("first", map[string]string{
		"deploy/staging/app.yaml":   configMap("app", "color", "green"),
		"deploy/staging/extra.yaml": configMap("extra", "k", "v"),
	})
	if c := w.waitPlanned(sha, "staging")["tugboat/staging"]; c.Conclusion != "action_required" {
		t.Fatalf("staging's plan = %s %q\n%s", c.Conclusion, c.Title, c.Summary)
	}
	w.gh.Approve(w.repo, n1, "carol")
	w.gh.Comment(w.repo, n1, "alice", "/apply staging")
	w.waitStatus(sha, "tugboat/apply/staging", "success", 2*time.Minute)
	if got := w.configMapValue(staging, "app", "color"); got != "green" {
		t.Errorf("staging's app color = %q, want green", got)
	}
	if got := w.configMapValue(staging, "extra", "k"); got != "v" {
		t.Errorf("staging's extra ConfigMap = %q, want applied", got)
	}
	if holder := w.lockHolder(staging, "staging"); holder != w.repo+"#1" {
		t.Errorf("staging's lock holder = %q, want %s#1", holder, w.repo)
	}

	// The lock keeps another PR out.
	n2, sha2 := w.openPR("second", map[string]string{"deploy/staging/app.yaml": configMap("app", "color", "red")})
	w.waitPlanned(sha2, "staging")
	w.gh.Approve(w.repo, n2, "carol")
	before := len(w.botComments(n2))
	w.gh.Comment(w.repo, n2, "alice", "/apply staging")
	w.waitFor("the refusal of the locked /apply", time.Minute, func() bool { return len(w.botComments(n2)) > before })
	if reply := w.botComments(n2)[len(w.botComments(n2))-1].Body; !strings.Contains(reply, "locked by #1") {
		t.Errorf("reply to /apply on a locked environment = %q", reply)
	}

	// Prune: the first PR drops the extra ConfigMap and applies again.
	// (The emulator's Commit cannot delete a file: emptying it drops the
	// object all the same.)
	sha = w.gh.Commit(w.repo, "first", map[string]string{"deploy/staging/extra.yaml": "# removed\n"}, "drop extra")
	w.waitPlanned(sha, "staging")
	w.gh.Approve(w.repo, n1, "carol")
	w.gh.Comment(w.repo, n1, "alice", "/apply staging")
	w.waitStatus(sha, "tugboat/apply/staging", "success", 2*time.Minute)
	if got := w.configMapValue(staging, "extra", "k"); got != "" {
		t.Errorf("the dropped ConfigMap was not pruned: k = %q", got)
	}

	// /unlock releases the lock.
	w.gh.Comment(w.repo, n1, "alice", "/unlock staging")
	w.waitFor("the lock released by /unlock", time.Minute, func() bool { return w.lockHolder(staging, "staging") == "" })
	// The Leases of home were used: the bot leads, and took the pull
	// requests' Leases (released again, so only the leader's remains).
	lease, err := staging.Client().CoordinationV1().Leases("tugboat-system").Get(context.Background(), "tugboat-leader", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Errorf("no leader Lease held in staging's tugboat-system: %v", err)
	}
	if !strings.Contains(w.bot.logs.String(), "became the leader") {
		t.Errorf("the bot never led:\n%s", w.bot.logs.String())
	}
	if strings.Contains(w.bot.logs.String(), "forbidden") {
		t.Errorf("the bot met a forbidden request:\n%s", w.bot.logs.String())
	}
}
