package applier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	sigyaml "sigs.k8s.io/yaml"

	"github.com/tugboatops/tugboat/kube"
)

// roleRule is one rule of the target-cluster roles, as the file has it.
type roleRule struct {
	role     string // ClusterRole or Role name
	index    int
	rule     rbacv1.PolicyRule
	optional bool // its comment says OPTIONAL
}

// targetRoles reads deploy/rbac/roles/target-cluster.yaml: its ClusterRoles
// and Role, and every rule with whether the file marks it optional.
func targetRoles(t *testing.T) (clusterRoles []rbacv1.ClusterRole, roles []rbacv1.Role, rules []roleRule) {
	t.Helper()
	data, err := os.ReadFile("../deploy/rbac/roles/target-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatal(err)
		}
		var head struct{ Kind string }
		if err := sigyaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		var name string
		var policy []rbacv1.PolicyRule
		switch head.Kind {
		case "ClusterRole":
			var cr rbacv1.ClusterRole
			if err := sigyaml.Unmarshal([]byte(doc), &cr); err != nil {
				t.Fatal(err)
			}
			clusterRoles = append(clusterRoles, cr)
			name, policy = cr.Name, cr.Rules
		case "Role":
			var r rbacv1.Role
			if err := sigyaml.Unmarshal([]byte(doc), &r); err != nil {
				t.Fatal(err)
			}
			roles = append(roles, r)
			name, policy = r.Name, r.Rules
		default:
			continue
		}
		items := rulesNode(&n)
		if len(items) != len(policy) {
			t.Fatalf("%s: %d rule nodes for %d rules", name, len(items), len(policy))
		}
		for i, r := range policy {
			rules = append(rules, roleRule{role: name, index: i, rule: r, optional: strings.Contains(items[i].HeadComment, "OPTIONAL")})
		}
	}
	return clusterRoles, roles, rules
}

// rulesNode returns the items of a role document's rules: sequence.
func rulesNode(doc *yaml.Node) []*yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "rules" {
			// A comment above the first item is the key's foot or the
			// sequence's head; yaml.v3 puts it on the item when indented.
			return doc.Content[i+1].Content
		}
	}
	return nil
}

// saConfig binds a new ServiceAccount to the target-cluster roles, minus
// rule `skip` (nil: none), under names of its own, as the per-namespace
// variant does (the namespaced kinds only in appNS, which it creates: no
// grant of one role hides a rule removed from another), and returns a client
// config with a token for it from the TokenRequest API — what a bot running
// as that ServiceAccount would hold.
func saConfig(t *testing.T, ctx context.Context, id, appNS string, clusterRoles []rbacv1.ClusterRole, roles []rbacv1.Role, skip *roleRule) *rest.Config {
	t.Helper()
	cs := cluster.Client()
	const saNS = "tugboat-sas"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: saNS}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, ns := range []string{kube.SystemNamespace, appNS} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	if _, err := cs.CoreV1().ServiceAccounts(saNS).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: id}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: id, Namespace: saNS}}
	without := func(role string, rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
		var out []rbacv1.PolicyRule
		for i, r := range rules {
			if skip != nil && skip.role == role && skip.index == i {
				continue
			}
			out = append(out, r)
		}
		return out
	}
	for _, cr := range clusterRoles {
		name := id + "-" + cr.Name
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: without(cr.Name, cr.Rules)}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		ref := rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name}
		var err error
		if cr.Name == "tugboat-applier" {
			_, err = cs.RbacV1().RoleBindings(appNS).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: ref, Subjects: subject}, metav1.CreateOptions{})
		} else {
			_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: ref, Subjects: subject}, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
			_ = cs.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
		})
	}
	for _, r := range roles {
		name := id + "-" + r.Name
		if _, err := cs.RbacV1().Roles(r.Namespace).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: without(r.Name, r.Rules)}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.RbacV1().RoleBindings(r.Namespace).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name}, Subjects: subject}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := cs.CoreV1().ServiceAccounts(saNS).CreateToken(ctx, id, &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s: %v", id, err)
	}
	cfg := rest.CopyConfig(cluster.RESTConfig())
	cfg.BearerToken = tok.Status.Token
	// RBAC changes reach the authorizer's cache within a moment.
	time.Sleep(500 * time.Millisecond)
	return cfg
}

// everyRuleYAML is an environment with an object for each rule of the
// applier role: removing any of them leaves some object unwritable.
func everyRuleYAML(ns string) []string {
	return []string{
		namespaceYAML(ns),
		configMapYAML(ns, "cfg", map[string]string{"v": "1"}),
		deploymentYAML(ns, "web", "nginx:1.27", 1),
		fmt.Sprintf("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly, namespace: %s}\nspec:\n  schedule: \"0 3 * * *\"\n  suspend: true\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: job, image: busybox:1.36}]\n", ns),
		fmt.Sprintf("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: %s}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n", ns),
		fmt.Sprintf("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: %s}\nspec:\n  maxUnavailable: 1\n  selector: {matchLabels: {app: web}}\n", ns),
		fmt.Sprintf("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: %s}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 1\n  maxReplicas: 2\n", ns),
	}
}

// applyAs runs what an /apply runs in a target cluster: the access check
// before the lock and mutex, then the applier.
func applyAs(ctx context.Context, e *testEnv) (*Result, error) {
	if err := CheckAccess(ctx, e.kc); err != nil {
		return nil, err
	}
	return e.apply(ctx, Options{})
}

// Removing any required rule of the target-cluster roles (bound as the
// per-namespace variant binds them) makes an apply
// fail before anything is written, naming what is missing (verb, resource
// and namespace: the preflight's "denied" message, or the plan's
// "forbidden" problem for what even a dry-run needs). Removing a rule the
// file marks OPTIONAL (Events, pod logs) leaves applying intact; so does
// removing the access-review rule, which every authenticated user has
// anyway (system:basic-user).
func TestTargetRolesRuleByRule(t *testing.T) {
	ctx := ctxFor(t, 10*time.Minute)
	clusterRoles, roles, rules := targetRoles(t)
	if len(rules) < 10 {
		t.Fatalf("only %d rules read", len(rules))
	}
	optional := 0
	run := func(t *testing.T, skip *roleRule) (*testEnv, string, *Result, error) {
		id := uniqueName("lp")
		ns := id + "-apps"
		cfg := saConfig(t, ctx, id, ns, clusterRoles, roles, skip)
		e := newTestEnv(t, "acme/"+id, "staging", cfg)
		e.put("all.yaml", everyRuleYAML(ns)...)
		res, err := applyAs(ctx, e)
		return e, ns, res, err
	}

	t.Run("all rules", func(t *testing.T) {
		_, ns, res, err := run(t, nil)
		if err != nil {
			t.Fatalf("apply with every rule: %v\n%s", err, reportString(res))
		}
		if _, err := cluster.Client().CoreV1().ConfigMaps(ns).Get(ctx, "cfg", metav1.GetOptions{}); err != nil {
			t.Fatalf("not applied: %v", err)
		}
	})
	for _, r := range rules {
		name := fmt.Sprintf("without %s rule %d %v", r.role, r.index, r.rule.Resources)
		t.Run(name, func(t *testing.T) {
			r := r
			_, ns, res, err := run(t, &r)
			ssar := len(r.rule.Resources) == 1 && r.rule.Resources[0] == "selfsubjectaccessreviews"
			if r.optional || ssar {
				if r.optional {
					optional++
				}
				if err != nil {
					t.Fatalf("apply without an optional rule failed: %v\n%s", err, reportString(res))
				}
				return
			}
			if err == nil {
				t.Fatalf("apply without a required rule succeeded")
			}
			t.Logf("refused: %v", err)
			named := false
			for _, res := range r.rule.Resources {
				named = named || strings.Contains(err.Error(), res)
			}
			var denied *DeniedError
			var problems *ProblemsError
			if !named || !(errors.As(err, &denied) || errors.As(err, &problems)) {
				t.Errorf("error does not deny up front naming %v: %v", r.rule.Resources, err)
			}
			if errors.As(err, &problems) && !strings.Contains(err.Error(), "forbidden") {
				t.Errorf("plan problem is not a forbidden: %v", err)
			}
			if _, err := cluster.Client().CoreV1().ConfigMaps(ns).Get(ctx, "cfg", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("ConfigMap %s/cfg written although the apply was refused (err %v)", ns, err)
			}
		})
	}
	if optional != 2 {
		t.Errorf("%d rules marked OPTIONAL, want 2 (events, pods/log)", optional)
	}
}
