package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress prints timestamped lines relative to the sandbox's start, so a
// newcomer sees what is happening during a cold build and everyone sees
// where the start-up time goes. Safe for concurrent use: clusters start in
// parallel.
type progress struct {
	mu    sync.Mutex
	out   io.Writer
	start time.Time
}

func newProgress(out io.Writer) *progress {
	return &progress{out: out, start: time.Now()}
}

// printf writes one line, prefixed with the elapsed time.
func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "sandbox [%5.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

// prefixed returns a printf whose lines start with prefix ("staging: ").
func (p *progress) prefixed(prefix string) func(string, ...any) {
	return func(format string, args ...any) { p.printf(prefix+format, args...) }
}

// elapsed is the time since the sandbox started.
func (p *progress) elapsed() time.Duration { return time.Since(p.start) }
