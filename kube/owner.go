package kube

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Annotations naming the repository and environment an ApplySet parent (or
// a lock) belongs to. The parent's name carries only 40 bits of a hash of
// the two, which is not an identity: reads and writes check these.
const (
	AnnotationRepository  = "tugboat.dev/repository"
	AnnotationEnvironment = "tugboat.dev/environment"
)

// OwnerError says an ApplySet parent belongs to another repository or
// environment than the one whose set shares its name. Nothing is read
// from it or written to it.
type OwnerError struct {
	Parent string // namespace/name
	Want   ApplySet
	Got    ApplySet
}

func (e *OwnerError) Error() string {
	return fmt.Sprintf("ApplySet parent %s belongs to %s environment %q, not to %s environment %q: "+
		"their names share a hash; tugboat refuses to read or write another's inventory (rename the environment)",
		e.Parent, e.Got.Repo, e.Got.Env, e.Want.Repo, e.Want.Env)
}

// checkOwner refuses a parent that records another owner than set. A
// parent that records none was written before tugboat recorded owners; it
// is accepted, and the next write records the owner.
func checkOwner(parent *unstructured.Unstructured, set ApplySet) error {
	ann := parent.GetAnnotations()
	repo, hasRepo := ann[AnnotationRepository]
	env, hasEnv := ann[AnnotationEnvironment]
	if (hasRepo && repo != set.Repo) || (hasEnv && env != set.Env) {
		return &OwnerError{
			Parent: parent.GetNamespace() + "/" + parent.GetName(),
			Want:   set,
			Got:    ApplySet{Repo: repo, Env: env},
		}
	}
	return nil
}
