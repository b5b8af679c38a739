package planner

import (
	"os"
	"syscall"
)

// PeakChildRSS is the highest resident set size, in bytes, that any render
// child of r reached, as the kernel accounts it when the child exits
// (getrusage's ru_maxrss). A plan's memory is the bot's heap plus this: the
// render runs in its own process, which the bot's heap metrics never see.
// Zero until a child has exited.
func (r *Renderer) PeakChildRSS() int64 { return r.peakRSS.Load() }

// notePeakRSS records a finished child's peak resident set.
func (r *Renderer) notePeakRSS(ps *os.ProcessState) {
	if ps == nil {
		return
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return
	}
	rss := ru.Maxrss << 10 // Linux reports kilobytes
	for {
		old := r.peakRSS.Load()
		if rss <= old || r.peakRSS.CompareAndSwap(old, rss) {
			return
		}
	}
}
