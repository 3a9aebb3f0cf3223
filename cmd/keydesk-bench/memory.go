package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"
)

// The bench process is the server: its resident memory is the console's,
// plus the client's, which keeps nothing it reads.

// memory is what /proc/self/status says of the process: resident memory
// now, and at its peak (VmHWM), in bytes.
type memory struct{ rss, peak int64 }

func readMemory() (memory, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return memory{}, fmt.Errorf("resident memory is read from /proc (Linux): %w", err)
	}
	var m memory
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, _ := bytes.Cut(sc.Bytes(), []byte(":"))
		var dst *int64
		switch string(name) {
		case "VmRSS":
			dst = &m.rss
		case "VmHWM":
			dst = &m.peak
		default:
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(value), []byte(" kB"))), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/self/status: %s: %w", name, err)
		}
		*dst = kb << 10
	}
	return m, sc.Err()
}

// resetPeak starts VmHWM again from the present resident memory (Linux
// 4.0 and later); where it cannot, the sampled peak has to do.
func resetPeak() {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// atRest returns the memory that the Go runtime holds for no live object
// to the system, as its scavenger does within minutes at rest.
func atRest() {
	runtime.GC()
	debug.FreeOSMemory()
}

// sampleMemory reads the resident memory every interval until the
// returned function is called, which returns the highest reading and
// VmHWM, whichever is higher.
func sampleMemory(interval time.Duration) (stop func() int64) {
	done := make(chan struct{})
	highest := make(chan int64)
	go func() {
		var top int64
		read := func() {
			if m, err := readMemory(); err == nil {
				top = max(top, m.rss, m.peak)
			}
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			read()
			select {
			case <-done:
				read()
				highest <- top
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		return <-highest
	}
}

// megabytes converts bytes to MB (10⁶ bytes), the unit of the budgets.
func megabytes(n int64) float64 { return float64(n) / 1e6 }
