package applier

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// statefulSetWithClaimsYAML is a StatefulSet with volumeClaimTemplates and
// a headless Service, as real-world overlays ship databases and caches;
// the claims name no storage class, so the cluster's default applies.
func statefulSetWithClaimsYAML(ns, name string, replicas int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  clusterIP: None
  selector: {app: %[2]s}
  ports:
  - {name: redis, port: 6379}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  serviceName: %[2]s
  replicas: %[3]d
  selector:
    matchLabels: {app: %[2]s}
  template:
    metadata:
      labels: {app: %[2]s}
    spec:
      containers:
      - name: redis
        image: redis:7.4
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
`, ns, name, replicas)
}

func claimYAML(ns, name, size string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: %s
  namespace: %s
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: %s
`, name, ns, size)
}

// TestStatefulSetWithVolumeClaimsConverges: an environment with a
// StatefulSet whose replicas claim volumes, and a claim of its own,
// converges — the applier's wait sees every claim Bound and every replica
// Ready, as on any real cluster with a default StorageClass.
func TestStatefulSetWithVolumeClaimsConverges(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	ns := uniqueName("volumes")
	e := newTestEnv(t, "acme/"+ns, "staging", cluster.RESTConfig())
	e.in.Env.Wait = 90 * time.Second
	e.put("ns.yaml", namespaceYAML(ns))
	e.put("cache.yaml", statefulSetWithClaimsYAML(ns, "cache", 2))
	e.put("uploads.yaml", claimYAML(ns, "uploads", "5Gi"))

	res := e.mustConverge(ctx)
	for _, o := range res.Wait.Objects {
		if o.Status != StatusCurrent {
			t.Errorf("%s: %s, want Current", o.Ref, o.Status)
		}
	}
	gvrPVC := schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	for _, name := range []string{"uploads", "data-cache-0", "data-cache-1"} {
		pvc := get(t, gvrPVC, ns, name)
		if pvc == nil {
			t.Fatalf("claim %s does not exist", name)
		}
		phase, _, _ := unstructured.NestedString(pvc.Object, "status", "phase")
		if phase != "Bound" {
			t.Errorf("claim %s is %q, want Bound", name, phase)
		}
	}
	sts := get(t, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, ns, "cache")
	if ready, _, _ := unstructured.NestedInt64(sts.Object, "status", "readyReplicas"); ready != 2 {
		t.Fatalf("statefulset cache has %d ready replicas after convergence, want 2", ready)
	}
}
