package planner

import (
	"context"
	"fmt"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugboatops/tugboat/kube"
)

// A dangerous change is one a person must look at twice: it is flagged in
// the plan, and never applied without --allow-dangerous (a heal never
// applies it). Deletes are dangerous when what goes with the object is
// more than the object: data (Namespaces, volumes, claims, CRDs, a
// StatefulSet that deletes its claims), an address others depend on (a
// LoadBalancer), checks or an API the whole cluster relies on (admission
// webhooks, APIServices), or tugboat's own access (RBAC that grants it —
// after that delete, tugboat may not be able to apply, prune or undo
// anything). Taking an object over from another ApplySet is dangerous
// too (ownership.go).

// dangerOf explains why deleting an object of its kind deserves a second
// look, whatever the object holds.
func dangerOf(ref ObjectRef, action Action) string {
	if action != ActionDelete {
		return ""
	}
	switch {
	case ref.IsNamespace():
		return "deletes the namespace and every object in it"
	case ref.Group == "" && ref.Kind == "PersistentVolumeClaim":
		return "deletes the claim; its volume and data may be deleted with it"
	case ref.Group == "" && ref.Kind == "PersistentVolume":
		return "deletes the volume; its data may be lost"
	case ref.IsCRD():
		return "deletes the CRD and every custom resource of its kind"
	case ref.Group == "admissionregistration.k8s.io" && ref.Kind == "ValidatingWebhookConfiguration":
		return "deletes an admission webhook: the checks it makes on every matching request stop at once"
	case ref.Group == "admissionregistration.k8s.io" && ref.Kind == "MutatingWebhookConfiguration":
		return "deletes an admission webhook: the changes it makes to every matching request (defaults, injected sidecars) stop at once"
	case ref.Group == "apiregistration.k8s.io" && ref.Kind == "APIService":
		return "deletes an aggregated API: every resource served under " + ref.Name + " becomes unreachable"
	}
	return ""
}

// dangers decides which deletes of one plan are dangerous. What it needs
// of the cluster (who tugboat is, which bindings grant it) it reads at
// most once, and only when the plan deletes RBAC objects.
type dangers struct {
	c *kube.Cluster

	selfOnce sync.Once
	self     kube.Identity
	selfErr  error

	bindOnce sync.Once
	binds    []selfBinding
	bindErr  error
}

// selfBinding is a RoleBinding or ClusterRoleBinding that names tugboat's
// own identity among its subjects.
type selfBinding struct {
	kind, namespace, name string
	roleKind, roleName    string
}

func newDangers(c *kube.Cluster) *dangers { return &dangers{c: c} }

// ofDelete explains why deleting the live object obj is dangerous; "" when
// it is not.
func (d *dangers) ofDelete(ctx context.Context, obj *unstructured.Unstructured) string {
	ref := refOf(obj)
	if why := dangerOf(ref, ActionDelete); why != "" {
		return why
	}
	switch {
	case ref.Group == "" && ref.Kind == "Service":
		if t, _, _ := unstructured.NestedString(obj.Object, "spec", "type"); t == "LoadBalancer" {
			return "deletes a LoadBalancer Service: its cloud load balancer and external address are released, and a new one would get a different address"
		}
	case ref.Group == "apps" && ref.Kind == "StatefulSet":
		if p, _, _ := unstructured.NestedString(obj.Object, "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"); p == "Delete" {
			return "deletes the StatefulSet and, by its persistentVolumeClaimRetentionPolicy (whenDeleted: Delete), its PersistentVolumeClaims: their volumes and data may be deleted with them"
		}
	case ref.Group == "rbac.authorization.k8s.io" && (ref.Kind == "RoleBinding" || ref.Kind == "ClusterRoleBinding"):
		return d.ofBinding(ctx, obj)
	case ref.Group == "rbac.authorization.k8s.io" && (ref.Kind == "Role" || ref.Kind == "ClusterRole"):
		return d.ofRole(ctx, ref)
	}
	return ""
}

// loseAccess is what deleting RBAC that grants tugboat may lead to.
const loseAccess = "tugboat may lose the access it needs to apply, prune or undo this"

func (d *dangers) identity(ctx context.Context) (kube.Identity, error) {
	d.selfOnce.Do(func() { d.self, d.selfErr = kube.WhoAmI(ctx, d.c) })
	return d.self, d.selfErr
}

func (d *dangers) ofBinding(ctx context.Context, obj *unstructured.Unstructured) string {
	self, err := d.identity(ctx)
	if err != nil {
		return "deletes a binding that may grant tugboat's own access (tugboat could not tell who it is: " + shortErr(err) + ")"
	}
	b, ok := bindingOf(obj, self)
	if !ok {
		return ""
	}
	return fmt.Sprintf("deletes a binding of tugboat's own identity (%s) to %s %s: %s", self, b.roleKind, b.roleName, loseAccess)
}

func (d *dangers) ofRole(ctx context.Context, ref ObjectRef) string {
	self, err := d.identity(ctx)
	if err != nil {
		return "deletes a role that may grant tugboat's own access (tugboat could not tell who it is: " + shortErr(err) + ")"
	}
	d.bindOnce.Do(func() { d.binds, d.bindErr = d.selfBindings(ctx, self) })
	if d.bindErr != nil {
		return fmt.Sprintf("deletes a role that may be bound to tugboat's own identity (%s); tugboat could not list the bindings to check: %s", self, shortErr(d.bindErr))
	}
	for _, b := range d.binds {
		if b.roleKind != ref.Kind || b.roleName != ref.Name || (ref.Kind == "Role" && b.namespace != ref.Namespace) {
			continue
		}
		where := b.name
		if b.namespace != "" {
			where = b.namespace + "/" + b.name
		}
		return fmt.Sprintf("deletes a role bound to tugboat's own identity (%s) by %s %s: %s", self, b.kind, where, loseAccess)
	}
	return ""
}

var (
	roleBindingsGVR        = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	clusterRoleBindingsGVR = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
)

// selfBindings lists every binding in the cluster that names self.
func (d *dangers) selfBindings(ctx context.Context, self kube.Identity) ([]selfBinding, error) {
	var out []selfBinding
	for _, gvr := range []schema.GroupVersionResource{clusterRoleBindingsGVR, roleBindingsGVR} {
		opts := metav1.ListOptions{Limit: listPageSize}
		for {
			list, err := d.c.Dynamic.Resource(gvr).List(ctx, opts)
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", gvr.Resource, err)
			}
			for i := range list.Items {
				if b, ok := bindingOf(&list.Items[i], self); ok {
					out = append(out, b)
				}
			}
			if list.GetContinue() == "" {
				break
			}
			opts.Continue = list.GetContinue()
		}
	}
	return out, nil
}

// bindingOf reads a binding; ok when one of its subjects is self.
func bindingOf(obj *unstructured.Unstructured, self kube.Identity) (selfBinding, bool) {
	b := selfBinding{kind: obj.GetKind(), namespace: obj.GetNamespace(), name: obj.GetName()}
	b.roleKind, _, _ = unstructured.NestedString(obj.Object, "roleRef", "kind")
	b.roleName, _, _ = unstructured.NestedString(obj.Object, "roleRef", "name")
	subjects, _, _ := unstructured.NestedSlice(obj.Object, "subjects")
	for _, s := range subjects {
		m, _ := s.(map[string]any)
		kind, _ := m["kind"].(string)
		name, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		if self.IsSubject(kind, name, ns, b.namespace) {
			return b, true
		}
	}
	return b, false
}

// shortErr is an error's text cut to fit a plan's danger note.
func shortErr(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
