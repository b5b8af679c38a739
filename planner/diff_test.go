package planner

import (
	"strings"
	"testing"
)

func TestUnifiedDiffShowsTheChangedLineOfAnEmbeddedFile(t *testing.T) {
	cm := func(port string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "app"},
			"data": map[string]any{"app.conf": "listen: " + port + "\nlog: info\nworkers: 4\n", "n": "1"}}
	}
	got, err := unifiedDiff(cm("80"), cm("8080"))
	if err != nil {
		t.Fatal(err)
	}
	want := `--- live
+++ planned
@@ -1,7 +1,7 @@
 apiVersion: v1
 data:
   app.conf: |
-    listen: 80
+    listen: 8080
     log: info
     workers: 4
   "n": "1"
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	created, err := unifiedDiff(nil, cm("80"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created, "--- live\n+++ planned\n@@ -0,0 +1,") || strings.Contains(created, "\n-") {
		t.Errorf("a create is all additions:\n%s", created)
	}
	same, err := unifiedDiff(cm("80"), cm("80"))
	if err != nil || same != "" {
		t.Errorf("identical objects: %q, %v", same, err)
	}
}
