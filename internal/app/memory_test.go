package app_test

import (
	"runtime/debug"
	"testing"

	"github.com/nhsprocure/portal/internal/app"
)

// TestTuneMemory: a limit sets Go's soft memory limit and the collector's
// percentage, and restore puts both back; no limit, or GOMEMLIMIT or GOGC
// set by the operator, changes nothing.
func TestTuneMemory(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	limitBefore, percentBefore := debug.SetMemoryLimit(-1), debug.SetGCPercent(-1)
	debug.SetGCPercent(percentBefore)

	tuned, restore := app.TuneMemory(200 << 20)
	if !tuned {
		t.Fatal("a limit with neither GOMEMLIMIT nor GOGC set changed nothing")
	}
	limit, percent := debug.SetMemoryLimit(-1), debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	restore()
	if limit != 200<<20 || percent != 200 {
		t.Errorf("tuned: limit %d, GC percent %d; want %d and 200", limit, percent, 200<<20)
	}
	limitAfter, percentAfter := debug.SetMemoryLimit(-1), debug.SetGCPercent(-1)
	debug.SetGCPercent(percentAfter)
	if limitAfter != limitBefore || percentAfter != percentBefore {
		t.Errorf("restored: limit %d, GC percent %d; want %d and %d", limitAfter, percentAfter, limitBefore, percentBefore)
	}

	if tuned, _ := app.TuneMemory(0); tuned {
		t.Error("no limit changed the collector")
	}
	for _, env := range []string{"GOMEMLIMIT", "GOGC"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, map[string]string{"GOMEMLIMIT": "100MiB", "GOGC": "100"}[env])
			if tuned, restore := app.TuneMemory(200 << 20); tuned {
				restore()
				t.Errorf("%s set by the operator was overridden", env)
			}
		})
	}
}
