package config

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigEnvironment is a .tugboat.yaml of about size bytes, one environment
// with thousands of keys, and its number of lines. yaml.v3 reports a
// syntax error at its end at line 2, where the outermost block starts:
// searching from there one line at a time meant a parse per line.
func bigEnvironment(size int) (string, int) {
	var b strings.Builder
	b.WriteString("version: 1\nenvironments:\n  staging:\n    cluster: staging\n    path: deploy\n")
	lines := 5
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "    setting-%06d: some value that pads the line out\n", i)
		lines++
	}
	return b.String(), lines
}

// cpuTime is the process's user+system CPU time: a bound on work done that
// other processes on a shared machine cannot stretch, as they do wall time.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A pull request's .tugboat.yaml is untrusted input: one over 1 MiB is
// refused before it is parsed, with one clear problem, at once.
func TestParseRepoRefusesFileOver1MiB(t *testing.T) {
	src, _ := bigEnvironment(2 << 20)
	src += "   apply: auto\n" // and a syntax error at the end, never looked for
	start := time.Now()
	_, err := ParseRepoContext(context.Background(), []byte(src), ".tugboat.yaml")
	took := time.Since(start)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("err = %v, want one problem", err)
	}
	if want := ".tugboat.yaml: file is 2 MiB, over the 1 MiB limit: tugboat does not read it"; errs[0].Error() != want {
		t.Fatalf("problem = %q, want %q", errs[0].Error(), want)
	}
	if took > time.Second {
		t.Fatalf("refusing a 2 MiB file took %s, want well under a second", took)
	}
	// Exactly the limit is still read.
	atLimit, _ := bigEnvironment(MaxRepoFileBytes - 100)
	atLimit += strings.Repeat("#", MaxRepoFileBytes-len(atLimit)-1) + "\n"
	if len(atLimit) != MaxRepoFileBytes {
		t.Fatalf("fixture is %d bytes", len(atLimit))
	}
	if _, err := ParseRepo([]byte(atLimit), ".tugboat.yaml"); err == nil || strings.Contains(err.Error(), "limit") {
		t.Fatalf("a file of exactly 1 MiB: %v, want it read (and its unknown keys reported)", err)
	}
}

// A syntax error on the last line of a 900 KB file is reported at that
// line, found in a few dozen parses rather than one per line (tens of
// thousands, which kept a worker busy for hours).
func TestParseRepoFindsSyntaxErrorLineInLargeFile(t *testing.T) {
	src, lines := bigEnvironment(900 << 10)
	src += "   apply: auto\n"
	bad := lines + 1
	cpu := cpuTime(t)
	start := time.Now()
	_, err := ParseRepoContext(context.Background(), []byte(src), ".tugboat.yaml")
	used, took := cpuTime(t)-cpu, time.Since(start)
	want := fmt.Sprintf(".tugboat.yaml:%d: invalid YAML: did not find expected key", bad)
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	t.Logf("%d lines: reported in %s (%s CPU)", bad, took.Round(time.Millisecond), used.Round(time.Millisecond))
	if used > 5*time.Second {
		t.Fatalf("finding the line took %s of CPU, want a few parses' worth", used)
	}
}
