package kubetest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"
)

// kubeVersion is the k8s.io/kubernetes version controlplane/go.mod requires.
const kubeVersion = "v1.36.3"

// sourceDir is the nested Go module holding the control-plane program. It
// is found next to this file, so kubetest works from any test package of
// the checkout.
func sourceDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("kubetest: cannot locate own source")
	}
	dir := filepath.Join(filepath.Dir(file), "controlplane")
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("kubetest: control-plane module not found: %w", err)
	}
	return dir, nil
}

// cacheKey changes whenever the control-plane sources, their dependency
// versions or the Go toolchain change.
func cacheKey(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s/%s\n%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, kubeVersion)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// cacheRoot is where built binaries live: the user cache dir, shared by
// every checkout and test binary of this user.
func cacheRoot() (string, error) {
	if d := os.Getenv("TUGBOAT_KUBETEST_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "tugboat", "controlplane"), nil
}

// EnsureBinary returns the path of the control-plane binary, building it
// first when the cache has none for the current sources. Builds happen under
// a file lock, so concurrent test binaries wait for one build instead of
// each starting their own. Progress goes to progress (nil: os.Stderr).
func EnsureBinary(ctx context.Context, progress io.Writer) (string, error) {
	if progress == nil {
		progress = os.Stderr
	}
	src, err := sourceDir()
	if err != nil {
		return "", err
	}
	key, err := cacheKey(src)
	if err != nil {
		return "", fmt.Errorf("kubetest: hash sources: %w", err)
	}
	root, err := cacheRoot()
	if err != nil {
		return "", fmt.Errorf("kubetest: cache dir: %w", err)
	}
	bin := filepath.Join(root, runtime.Version()+"-"+key, "controlplane")
	if _, err := os.Stat(bin); err == nil {
		markUsed(bin)
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("kubetest: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(root, "build.lock"), progress)
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil { // built by whoever held the lock
		return bin, nil
	}
	if err := build(ctx, src, bin, progress); err != nil {
		return "", err
	}
	pruneCache(root, keepBuilds)
	return bin, nil
}

// keepBuilds is how many control-plane builds the cache keeps (each is
// about 240 MB): enough for a few checkouts or branches side by side.
const keepBuilds = 3

// markUsed records a cache hit in the build directory's mtime, which
// pruneCache reads as "last used".
func markUsed(bin string) {
	now := time.Now()
	_ = os.Chtimes(filepath.Dir(bin), now, now)
}

// pruneCache removes all but the keep most recently used builds. It runs
// under the build lock, after a build, so it never races another build.
func pruneCache(root string, keep int) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	type build struct {
		path string
		used time.Time
	}
	var builds []build
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		builds = append(builds, build{filepath.Join(root, e.Name()), info.ModTime()})
	}
	sort.Slice(builds, func(i, j int) bool { return builds[i].used.After(builds[j].used) })
	for i := keep; i < len(builds); i++ {
		_ = os.RemoveAll(builds[i].path)
	}
}

// lockFile takes an exclusive flock, telling the user when it has to wait.
func lockFile(ctx context.Context, path string, progress io.Writer) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("kubetest: open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintln(progress, "kubetest: another process is building the control plane; waiting for it")
		done := make(chan error, 1)
		go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
		select {
		case err := <-done:
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("kubetest: lock: %w", err)
			}
		case <-ctx.Done():
			f.Close() // releases the pending flock's descriptor too
			return nil, ctx.Err()
		}
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// build compiles the control plane into bin, reporting the number of
// packages compiled every few seconds: a cold build takes minutes.
func build(ctx context.Context, src, bin string, progress io.Writer) error {
	start := time.Now()
	fmt.Fprintf(progress, "kubetest: building the control plane (kube-apiserver+etcd, controller-manager, scheduler, kwok) from %s\n", src)
	fmt.Fprintln(progress, "kubetest: a cold build takes several minutes; later runs reuse the cached binary")
	tmp := bin + ".tmp"
	// Stamp the Kubernetes version: clients (kubectl among them) read it
	// from /version, and an unstamped build reports v0.0.0-master.
	ldflags := "-X k8s.io/component-base/version.gitVersion=" + kubeVersion +
		" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36"
	cmd := exec.CommandContext(ctx, "go", "build", "-v", "-ldflags", ldflags, "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kubetest: go build: %w", err)
	}
	var tail []string
	packages := 0
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for lines != nil {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				continue
			}
			packages++
			tail = append(tail, l)
			if len(tail) > 40 {
				tail = tail[1:]
			}
		case <-tick.C:
			fmt.Fprintf(progress, "kubetest: still building: %d packages compiled, %s elapsed\n", packages, time.Since(start).Round(time.Second))
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("kubetest: go build failed: %w\n%s", err, strings.Join(tail, "\n"))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return fmt.Errorf("kubetest: %w", err)
	}
	fmt.Fprintf(progress, "kubetest: control plane built in %s (%s)\n", time.Since(start).Round(time.Second), bin)
	return nil
}
