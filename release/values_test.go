package release

import (
	"strings"
	"testing"
)

func TestSetValueKeepsTheRest(t *testing.T) {
	from := []byte("# prod values\nimage:\n  repository: shop/web\n  tag: \"1.5.0\" # released Monday\nreplicas: 3\n")
	to := []byte("# staging values\nreplicas: 1 # small\nimage:\n  tag: \"1.4.0\"\n")
	v, found, err := LookupValue(from, "image.tag")
	if err != nil || !found || ValueText(v) != "1.5.0" {
		t.Fatalf("lookup: %v %v %v", v, found, err)
	}
	out, changed, err := SetValue(to, "image.tag", v)
	if err != nil || !changed {
		t.Fatalf("set: %v %v", changed, err)
	}
	want := "# staging values\nreplicas: 1 # small\nimage:\n  tag: \"1.5.0\"\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, changed, _ := SetValue(out, "image.tag", v); changed {
		t.Error("setting the same value again changed the file")
	}
	// Missing mappings are created; a mapping value is copied whole.
	res, _, _ := LookupValue(from, "image")
	out, _, err = SetValue([]byte("replicas: 1\n"), "web.image", res)
	if err != nil || !strings.Contains(string(out), "web:\n  image:\n    repository: shop/web\n    tag: \"1.5.0\"\n") {
		t.Errorf("nested: %v\n%s", err, out)
	}
	if _, found, _ := LookupValue(from, "image.digest"); found {
		t.Error("found a value that is not there")
	}
	if _, _, err := SetValue([]byte("image: nginx\n"), "image.tag", v); err == nil {
		t.Error("set below a scalar")
	}
}
