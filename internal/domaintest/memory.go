package domaintest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// MemoryPeak is the most memory the process held while a MemorySampler ran.
type MemoryPeak struct {
	RSSBytes  uint64 // resident set (VmRSS); 0 where /proc/self/status is not there
	HeapBytes uint64 // Go heap objects in use, live or not yet swept
	Samples   int
}

// MiB is n bytes in mebibytes.
func MiB(n uint64) float64 { return float64(n) / (1 << 20) }

// MemorySampler reads the process's resident memory and Go heap in use at
// a fixed interval and keeps the peaks. Sampling, rather than VmHWM, gives
// the peak of one phase (a rush), not of the process's whole life, which
// includes the setup before it.
type MemorySampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak MemoryPeak
}

// heapInUse is the runtime/metrics name of heap memory held by objects.
const heapInUse = "/memory/classes/heap/objects:bytes"

// SampleMemory starts sampling every interval, beginning now.
func SampleMemory(every time.Duration) *MemorySampler {
	m := &MemorySampler{stop: make(chan struct{})}
	m.sample()
	m.done.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
				m.sample()
			}
		}
	})
	return m
}

// Stop takes a last sample, stops sampling and returns the peaks.
func (m *MemorySampler) Stop() MemoryPeak {
	close(m.stop)
	m.done.Wait()
	m.sample()
	return m.peak
}

func (m *MemorySampler) sample() {
	s := []metrics.Sample{{Name: heapInUse}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		m.peak.HeapBytes = max(m.peak.HeapBytes, s[0].Value.Uint64())
	}
	if rss, err := ResidentBytes(); err == nil {
		m.peak.RSSBytes = max(m.peak.RSSBytes, rss)
	}
	m.peak.Samples++
}

// ResidentBytes is the process's resident set size now, from VmRSS in
// /proc/self/status (Linux).
func ResidentBytes() (uint64, error) {
	const field = "VmRSS:"
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read process status: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(field))
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("process status %s%s: %w", field, rest, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("process status has no %s", field)
}
