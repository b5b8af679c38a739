// Package benchtest holds the pieces the benchmarks of several packages
// share: the real bot binary built once per test process (so a benchmark
// can time `bot plan` or `bot apply` as a user runs it), the raw floor (the
// SSA dry-run PATCHes a plan sends, from a bare concurrent HTTP client that
// discards the answers), and the median of a set of timings.
//
// It is a test helper: only _test.go files import it.
package benchtest
