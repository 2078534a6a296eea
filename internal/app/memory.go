package app

import (
	"os"
	"runtime/debug"
)

// gcPercentUnderLimit is the garbage collector's target while a memory
// limit holds the heap down: a collection once the heap has grown by twice
// what was live after the last one, half as often as Go's default of 100.
// Most of what a page allocates is garbage by the time it is sent, so on
// the signed-in pages the collector was an eighth of the work; the limit,
// not the percentage, is what keeps an instance inside its memory.
const gcPercentUnderLimit = 200

// TuneMemory sets the garbage collector for a portal instance from
// PORTAL_MEMORY_LIMIT (limit bytes; 0 leaves Go's defaults), unless the
// operator has set GOMEMLIMIT or GOGC, which win. It reports whether it
// changed anything and returns what puts the previous settings back (for
// benchmarks, which run in a process of their own otherwise).
func TuneMemory(limit int64) (tuned bool, restore func()) {
	if limit <= 0 || os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return false, func() {}
	}
	prevLimit := debug.SetMemoryLimit(limit)
	prevPercent := debug.SetGCPercent(gcPercentUnderLimit)
	return true, func() {
		debug.SetMemoryLimit(prevLimit)
		debug.SetGCPercent(prevPercent)
	}
}
