package benchtest

import (
	"slices"
	"time"
)

// Median is the middle of ds (the upper one of an even count); ds is left
// as it was. It panics on an empty ds, which is a benchmark's own bug.
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
