package config

import "time"

// Render bounds the renders of the whole bot process (every pull request
// and environment at once): each is a child process with its own memory,
// and its output is buffered in the bot until decoded.
type Render struct {
	// Concurrency is how many renders may run at once. Absent: one per GiB
	// of the memory the bot may use (its cgroup limit), from 1 to 8, and
	// at most max(CPUs, 2).
	Concurrency int `yaml:"concurrency"`
	// BufferBytes caps the render output buffered at once, in bytes; each
	// render reserves its output bound (4× the repository limit plus
	// 1 MiB) before it starts. Absent: a quarter of the bot's memory.
	BufferBytes int64 `yaml:"buffer_bytes"`
	// Timeout is the wall-clock limit of one render (default 10s): raise
	// it for very large repositories or a bot short of CPU.
	Timeout time.Duration `yaml:"timeout"`
}
