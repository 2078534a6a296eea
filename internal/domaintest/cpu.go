package domaintest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// CPUUse is a reading of the CPU time used so far, by the whole machine
// (from /proc/stat, Linux) and by this process, so that a benchmark can say
// how busy the machine was while it ran, and how much of that was not its
// own doing: other processes (the database among them, and anything else
// running at the time) competing for the same cores.
type CPUUse struct {
	machineBusy, machineAll time.Duration // summed over all cores
	self                    time.Duration
}

// clockTick is the kernel's USER_HZ, the unit of /proc/stat: 100 on
// every Linux platform Go supports.
const clockTick = 10 * time.Millisecond

// ReadCPU reads the CPU time used so far.
func ReadCPU() (CPUUse, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return CPUUse{}, fmt.Errorf("process CPU time: %w", err)
	}
	u := CPUUse{self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUUse{}, fmt.Errorf("machine CPU time: %w", err)
	}
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	fields := bytes.Fields(line)
	if len(fields) < 5 || string(fields[0]) != "cpu" {
		return CPUUse{}, fmt.Errorf("machine CPU time: unexpected /proc/stat line %q", line)
	}
	for i, f := range fields[1:] {
		ticks, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return CPUUse{}, fmt.Errorf("machine CPU time: %q: %w", f, err)
		}
		d := time.Duration(ticks) * clockTick
		u.machineAll += d
		if i != 3 && i != 4 { // idle and iowait
			u.machineBusy += d
		}
	}
	return u, nil
}

// CPUSince is what the machine did between two readings.
type CPUSince struct {
	Busy, All time.Duration // the machine's, summed over all cores
	Self      time.Duration // this process's share of Busy
}

// Since is the CPU time used between earlier and u.
func (u CPUUse) Since(earlier CPUUse) CPUSince {
	return CPUSince{Busy: u.machineBusy - earlier.machineBusy, All: u.machineAll - earlier.machineAll, Self: u.self - earlier.self}
}

// String says how busy the machine was and how much of it was this process.
func (c CPUSince) String() string {
	pct := func(d time.Duration) float64 {
		if c.All == 0 {
			return 0
		}
		return 100 * float64(d) / float64(c.All)
	}
	return fmt.Sprintf("machine CPU %.0f%% busy (this process %.0f%%, everything else %.0f%%) of %.0f core-seconds",
		pct(c.Busy), pct(c.Self), pct(c.Busy-c.Self), c.All.Seconds())
}
