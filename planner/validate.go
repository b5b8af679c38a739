package planner

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugboatops/tugboat/config"
)

// ScopeResolver answers from the cluster's discovery whether a kind is
// namespaced. known is false when the cluster does not serve the kind.
type ScopeResolver interface {
	IsNamespaced(gvk schema.GroupVersionKind) (namespaced bool, known bool, err error)
}

// Validate checks rendered objects before any dry-run. It returns the
// objects that can be planned, in input order, with namespaced objects that
// name no namespace given env.Namespace (on a copy: the input is not
// modified), and a problem for each of the others.
func Validate(objs []Object, env config.Environment, scopes ScopeResolver) ([]Object, []Problem) {
	v := &validator{env: env, scopes: scopes, crds: crdsIn(objs), lookupErrs: map[string]bool{}}
	var ok []Object
	for _, o := range objs {
		if checked, good := v.object(o); good {
			ok = append(ok, checked)
		}
	}
	return v.dropDuplicates(ok), v.probs
}

// crdScope is what a CustomResourceDefinition in the same set says about
// its kind.
type crdScope struct {
	namespaced bool
	versions   map[string]bool
	source     Location
}

type validator struct {
	env        config.Environment
	scopes     ScopeResolver
	crds       map[schema.GroupKind]crdScope
	lookupErrs map[string]bool // discovery failures already reported
	probs      []Problem
}

func (v *validator) problem(src Location, obj, format string, args ...any) {
	v.probs = append(v.probs, Problem{Source: src, Object: obj, Message: fmt.Sprintf(format, args...)})
}

// crdsIn reads the group, kind, scope and versions of every
// CustomResourceDefinition in objs, so custom resources created together
// with their CRD validate before the cluster knows the kind.
func crdsIn(objs []Object) map[schema.GroupKind]crdScope {
	crds := map[schema.GroupKind]crdScope{}
	for _, o := range objs {
		if !refOf(o.Obj).IsCRD() {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Obj.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Obj.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(o.Obj.Object, "spec", "scope")
		if group == "" || kind == "" {
			continue
		}
		versions := map[string]bool{}
		list, _, _ := unstructured.NestedSlice(o.Obj.Object, "spec", "versions")
		for _, item := range list {
			if m, ok := item.(map[string]interface{}); ok {
				if name, ok := m["name"].(string); ok {
					versions[name] = true
				}
			}
		}
		crds[schema.GroupKind{Group: group, Kind: kind}] = crdScope{namespaced: scope != "Cluster", versions: versions, source: o.Source}
	}
	return crds
}

// object checks one object and returns it ready to plan.
func (v *validator) object(o Object) (Object, bool) {
	obj := o.Obj
	ref := refString(obj)
	var missing []string
	if obj.GetAPIVersion() == "" {
		missing = append(missing, "apiVersion")
	}
	if obj.GetKind() == "" {
		missing = append(missing, "kind")
	}
	if obj.GetName() == "" {
		missing = append(missing, "metadata.name")
	}
	if len(missing) > 0 {
		v.problem(o.Source, ref, "object has no %s", joinAnd(missing))
		return o, false
	}
	gv, err := schema.ParseGroupVersion(obj.GetAPIVersion())
	if err != nil {
		v.problem(o.Source, ref, "apiVersion %q is not valid: want group/version or version", obj.GetAPIVersion())
		return o, false
	}
	gvk := gv.WithKind(obj.GetKind())
	namespaced, ok := v.scope(o, gvk, ref)
	if !ok {
		return o, false
	}
	ns := obj.GetNamespace()
	switch {
	case namespaced && ns == "" && v.env.Namespace == "":
		v.problem(o.Source, ref, "%s is namespaced but names no namespace, and environment %q sets no default namespace", obj.GetKind(), v.env.Name)
		return o, false
	case namespaced && ns == "":
		o.Obj = obj.DeepCopy()
		o.Obj.SetNamespace(v.env.Namespace)
	case !namespaced && ns != "":
		v.problem(o.Source, ref, "%s is cluster-scoped but sets metadata.namespace %q; remove it", obj.GetKind(), ns)
		return o, false
	}
	return o, true
}

// scope says whether gvk is namespaced: from a CRD in the same set first
// (the cluster may not have it yet), else from the cluster.
func (v *validator) scope(o Object, gvk schema.GroupVersionKind, ref string) (namespaced, ok bool) {
	if crd, found := v.crds[gvk.GroupKind()]; found {
		if len(crd.versions) > 0 && !crd.versions[gvk.Version] {
			v.problem(o.Source, ref, "the CustomResourceDefinition for %s (%s:%d) defines no version %q", gvk.GroupKind(), crd.source.File, crd.source.Line, gvk.Version)
			return false, false
		}
		return crd.namespaced, true
	}
	namespaced, known, err := v.scopes.IsNamespaced(gvk)
	if err != nil {
		// A discovery failure is about the cluster, not this object:
		// report it once, not once per object.
		msg := fmt.Sprintf("cannot look up kinds in the cluster: %v", err)
		if !v.lookupErrs[msg] {
			v.lookupErrs[msg] = true
			v.problem(Location{}, "", "%s", msg)
		}
		return false, false
	}
	if !known {
		v.problem(o.Source, ref, "kind %s (apiVersion %s) is not served by the cluster, and no CustomResourceDefinition in this change defines it", gvk.Kind, gvk.GroupVersion())
		return false, false
	}
	return namespaced, true
}

// identity is what makes two objects the same object to the API server.
type identity struct {
	group, kind, namespace, name string
}

// dropDuplicates reports every object defined more than once, naming all
// its definitions in one problem, and plans none of them: which one the
// author meant is anyone's guess.
func (v *validator) dropDuplicates(objs []Object) []Object {
	seen := map[identity][]Object{}
	var order []identity
	for _, o := range objs {
		id := identity{o.Obj.GroupVersionKind().Group, o.Obj.GetKind(), o.Obj.GetNamespace(), o.Obj.GetName()}
		if _, ok := seen[id]; !ok {
			order = append(order, id)
		}
		seen[id] = append(seen[id], o)
	}
	out := objs[:0:0]
	for _, o := range objs {
		id := identity{o.Obj.GroupVersionKind().Group, o.Obj.GetKind(), o.Obj.GetNamespace(), o.Obj.GetName()}
		if len(seen[id]) == 1 {
			out = append(out, o)
		}
	}
	for _, id := range order {
		defs := seen[id]
		if len(defs) < 2 {
			continue
		}
		where := make([]string, len(defs))
		for i, d := range defs {
			where[i] = locationString(d.Source)
		}
		v.problem(defs[1].Source, refString(defs[0].Obj), "defined %d times: %s", len(defs), joinAnd(where))
	}
	return out
}

// refString names an object as ObjectRef.String does, with what it has.
func refString(obj *unstructured.Unstructured) string {
	ref := ObjectRef{Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	if ref.Kind == "" && ref.Name == "" {
		return ""
	}
	return ref.String()
}

func locationString(l Location) string {
	if l.Line > 0 {
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	return l.File
}

// joinAnd joins "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
