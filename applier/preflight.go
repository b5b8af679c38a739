package applier

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/tugboatops/tugboat/internal/panics"
	"github.com/tugboatops/tugboat/planner"
)

// access is one permission the apply needs.
type access struct {
	verb, group, resource, namespace string
}

func (a access) String() string {
	res := a.resource
	if a.group != "" {
		res += "." + a.group
	}
	if a.namespace == "" {
		return a.verb + " " + res + " (cluster-wide)"
	}
	return a.verb + " " + res + " in namespace " + a.namespace
}

// DeniedError says which permissions the bot lacks for an apply. It is
// returned before anything is written.
type DeniedError struct {
	Denied []DeniedAccess
}

// DeniedAccess is one permission the bot lacks, with the objects that need it.
type DeniedAccess struct {
	Access  string // "patch deployments.apps in namespace apps"
	Objects []string
	Reason  string // the authorizer's reason, when it gave one
}

func (e *DeniedError) Error() string {
	var b strings.Builder
	b.WriteString("the bot is not allowed to apply this plan (nothing was written): ")
	for i, d := range e.Denied {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.Access)
		if len(d.Objects) > 0 {
			b.WriteString(" — needed for ")
			b.WriteString(joinCapped(d.Objects, 3))
		}
	}
	return b.String()
}

func joinCapped(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(s[:n], ", "), len(s)-n)
}

// preflight asks the API server, with SelfSubjectAccessReviews, whether
// the bot may make every write of the plan, so a missing permission is a
// clear refusal before any write rather than a half-applied environment.
// Reviews are per verb, resource and namespace (not per object name): a
// role restricted to resource names is rare, and a write it forbids still
// ends up in the result as a failure.
func (a *run) preflight(ctx context.Context, writes []desired, deletes []planner.ObjectRef) error {
	need := map[access][]string{}
	add := func(ac access, obj string) {
		if obj == "" {
			if _, ok := need[ac]; !ok {
				need[ac] = nil
			}
			return
		}
		need[ac] = append(need[ac], obj)
	}
	accessFor := func(ref planner.ObjectRef, verbs ...string) error {
		m, err := a.c.mapping(ref)
		if err != nil {
			if isCRDInstanceOfNewCRD(ref, writes) {
				// Its CRD is created by this apply: there is no resource to
				// review yet. A failure shows up in the result.
				return nil
			}
			return err
		}
		ns := ""
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns = ref.Namespace
		}
		for _, v := range verbs {
			add(access{v, m.Resource.Group, m.Resource.Resource, ns}, ref.String())
		}
		return nil
	}
	for _, d := range writes {
		verbs := []string{"patch"}
		switch {
		case d.obj.GetAnnotations()[AnnotationApply] == ApplyIfNotPresent:
			if d.change.Action != planner.ActionCreate {
				continue
			}
			verbs = []string{"create"}
		case d.change.Action == planner.ActionCreate:
			// An apply that creates is authorized as a create too.
			verbs = []string{"patch", "create"}
		}
		if err := accessFor(d.change.Ref, verbs...); err != nil {
			return fmt.Errorf("preflight: %w", err)
		}
	}
	for _, r := range deletes {
		if err := accessFor(r, "get", "delete"); err != nil {
			return fmt.Errorf("preflight: %w", err)
		}
	}
	for _, ac := range stateAccess() {
		add(ac, "")
	}
	if err := a.waitAccess(writes, add); err != nil {
		return fmt.Errorf("preflight: %w", err)
	}
	return review(ctx, a.c.core, need)
}

// review asks the API server about every access in need (its values: the
// objects needing it) and returns a *DeniedError for those it denies.
func review(ctx context.Context, core kubernetes.Interface, need map[access][]string) error {
	keys := make([]access, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	reasons := make([]string, len(keys))
	allowed := make([]bool, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(applyConcurrency)
	for i, k := range keys {
		g.Go(func() (err error) {
			var crashed error
			defer func() {
				if crashed != nil {
					err = fmt.Errorf("preflight: access review for %s: %w", k, crashed)
				}
			}()
			defer panics.Recover(gctx, &crashed)
			r, err := core.AuthorizationV1().SelfSubjectAccessReviews().Create(gctx, &authv1.SelfSubjectAccessReview{
				Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
					Verb: k.verb, Group: k.group, Resource: k.resource, Namespace: k.namespace,
				}},
			}, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("preflight: access review for %s: %w", k, err)
			}
			allowed[i], reasons[i] = r.Status.Allowed, r.Status.Reason
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	var denied []DeniedAccess
	for i, k := range keys {
		if !allowed[i] {
			denied = append(denied, DeniedAccess{Access: k.String(), Objects: need[k], Reason: reasons[i]})
		}
	}
	if len(denied) > 0 {
		return &DeniedError{Denied: denied}
	}
	return nil
}

// isCRDInstanceOfNewCRD: ref's kind is defined by a CRD this apply creates.
func isCRDInstanceOfNewCRD(ref planner.ObjectRef, writes []desired) bool {
	for _, d := range writes {
		if !d.change.Ref.IsCRD() {
			continue
		}
		group, _, _ := unstructured.NestedString(d.obj.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(d.obj.Object, "spec", "names", "kind")
		if group == ref.Group && kind == ref.Kind {
			return true
		}
	}
	return false
}
