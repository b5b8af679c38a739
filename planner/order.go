package planner

import (
	"sort"
)

// kindOrder ranks kinds in the order an apply must create them: what others
// depend on first (the order Helm and Flux use, give or take). Kinds not
// listed come after, by name.
var kindOrder = func() map[string]int {
	kinds := []string{
		"CustomResourceDefinition", "Namespace", "ResourceQuota", "LimitRange",
		"PriorityClass", "StorageClass", "PersistentVolume", "ServiceAccount",
		"Secret", "ConfigMap", "ClusterRole", "ClusterRoleBinding", "Role",
		"RoleBinding", "PersistentVolumeClaim", "Service", "DaemonSet", "Pod",
		"ReplicaSet", "Deployment", "StatefulSet", "Job", "CronJob",
		"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
		"IngressClass", "Ingress", "APIService", "ValidatingAdmissionPolicy",
		"ValidatingAdmissionPolicyBinding", "MutatingWebhookConfiguration",
		"ValidatingWebhookConfiguration",
	}
	m := make(map[string]int, len(kinds))
	for i, k := range kinds {
		m[k] = i
	}
	return m
}()

func kindRank(kind string) int {
	if r, ok := kindOrder[kind]; ok {
		return r
	}
	return len(kindOrder)
}

// sortChanges orders changes deterministically: CRDs, Namespaces, then by
// kind order, group, namespace and name.
func sortChanges(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool { return refLess(cs[i].Ref, cs[j].Ref) })
}

func refLess(a, b ObjectRef) bool {
	if ra, rb := kindRank(a.Kind), kindRank(b.Kind); ra != rb {
		return ra < rb
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// sortProblems orders problems by file, line, object and message, so the
// same input always reads the same.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Source.File != b.Source.File {
			return a.Source.File < b.Source.File
		}
		if a.Source.Line != b.Source.Line {
			return a.Source.Line < b.Source.Line
		}
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		return a.Message < b.Message
	})
}
