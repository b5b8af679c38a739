package githubtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Versions of the npm packages hack/testdata.sh fetches. They must match the
// script: the directories below are named after them.
const (
	openAPIPackage  = "octokit-openapi-23.0.2"
	examplesPackage = "octokit-webhooks-examples-7.6.1"
	schemasPackage  = "octokit-webhooks-schemas-7.6.1"
)

// TestdataDir returns the directory hack/testdata.sh extracts GitHub's
// descriptions into: $TUGBOAT_TESTDATA, else <user cache dir>/tugboat/testdata.
// It mirrors the script's own choice so both agree without configuration.
func TestdataDir() (string, error) {
	if d := os.Getenv("TUGBOAT_TESTDATA"); d != "" {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate testdata: %w (set TUGBOAT_TESTDATA)", err)
	}
	return filepath.Join(cache, "tugboat", "testdata"), nil
}

// testdataFile returns the path of a file inside one of the fetched packages,
// or an error telling the reader how to fetch it.
func testdataFile(pkg string, rel ...string) (string, error) {
	dir, err := TestdataDir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(append([]string{dir, pkg}, rel...)...)
	if _, err := os.Stat(filepath.Join(dir, pkg, ".verified")); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("GitHub test data missing (%s): run `make testdata`", filepath.Join(dir, pkg))
		}
		return "", fmt.Errorf("GitHub test data %s: %w", pkg, err)
	}
	return p, nil
}
