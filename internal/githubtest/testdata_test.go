package githubtest

import (
	"strings"
	"testing"
)

// TestMissingTestdataSaysWhatToRun: without `make testdata` the emulator
// refuses to start and says how to fix it (tests fail, they do not skip).
func TestMissingTestdataSaysWhatToRun(t *testing.T) {
	t.Setenv("TUGBOAT_TESTDATA", t.TempDir())
	_, err := loadDescription(servedOperations())
	if err == nil || !strings.Contains(err.Error(), "run `make testdata`") {
		t.Errorf("description: err = %v, want one telling to run `make testdata`", err)
	}
	if _, err := testdataFile(schemasPackage, "schema.json"); err == nil || !strings.Contains(err.Error(), "run `make testdata`") {
		t.Errorf("schemas: err = %v", err)
	}
}

// TestPruningKeepsEveryPath: the router still knows every path and method
// of GitHub's description after pruning, so a call to an operation the
// emulator lacks is told apart from a call to a path GitHub lacks.
func TestPruningKeepsEveryPath(t *testing.T) {
	d, err := sharedDescription()
	if err != nil {
		t.Fatal(err)
	}
	ops, stubs := 0, 0
	for _, item := range d.doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops++
			if op.Summary == notEmulated {
				stubs++
			}
		}
	}
	if served := len(routes()); ops-stubs != served {
		t.Errorf("%d fully described operations, want the %d served", ops-stubs, served)
	}
	if ops < 1000 {
		t.Errorf("only %d operations kept; GitHub has over a thousand", ops)
	}
}
