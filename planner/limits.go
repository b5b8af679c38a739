package planner

import "time"

// Limits bound a render of untrusted input. A zero field means "use the
// default" (see DefaultLimits), never "unlimited".
type Limits struct {
	// Timeout is the wall-clock limit of one render, child start included.
	Timeout time.Duration
	// MemoryBytes caps the render child's memory (GOMEMLIMIT plus a hard
	// watchdog on its resident set).
	MemoryBytes int64
	// MaxRepoBytes caps the total size of the repository files sent to the
	// child.
	MaxRepoBytes int64
	// MaxObjects caps the number of rendered objects.
	MaxObjects int
	// MaxDocumentBytes caps the size of one YAML/JSON file or document.
	MaxDocumentBytes int
}

// The default limits: generous for real repositories (the largest CRDs in
// common use are under 1 MiB), small enough that a hostile repository cannot
// hurt the bot.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMemoryBytes      = 512 << 20
	DefaultMaxRepoBytes     = 64 << 20
	DefaultMaxObjects       = 10000
	DefaultMaxDocumentBytes = 4 << 20
)

// DefaultLimits returns the limits used when none are configured.
func DefaultLimits() Limits {
	return Limits{
		Timeout:          DefaultTimeout,
		MemoryBytes:      DefaultMemoryBytes,
		MaxRepoBytes:     DefaultMaxRepoBytes,
		MaxObjects:       DefaultMaxObjects,
		MaxDocumentBytes: DefaultMaxDocumentBytes,
	}
}

// withDefaults fills every zero field from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = d.MemoryBytes
	}
	if l.MaxRepoBytes <= 0 {
		l.MaxRepoBytes = d.MaxRepoBytes
	}
	if l.MaxObjects <= 0 {
		l.MaxObjects = d.MaxObjects
	}
	if l.MaxDocumentBytes <= 0 {
		l.MaxDocumentBytes = d.MaxDocumentBytes
	}
	return l
}
