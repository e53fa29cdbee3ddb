// Package procstat reads what a process costs, for benchmarks: its CPU
// time and resident memory from /proc, this process's CPU time, and the Go
// heap, stacks and goroutines a Numerek program exports on /metrics.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/numerek/numerek/internal/scrape"
)

// Hz is the kernel's clock ticks a second, /proc's unit of CPU time.
const Hz = 100

// CPUTicks is process pid's CPU time so far (user and system), in ticks.
func CPUTicks(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading process %d's CPU time: %w", pid, err)
	}
	// The fields after the command's name, which may hold spaces.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime, nil
}

// OwnCPU is this process's CPU time so far (user and system).
func OwnCPU() (time.Duration, error) {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0, fmt.Errorf("reading this process's CPU time: %w", err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()), nil
}

// Memory is what a program holds: bytes resident, bytes of Go heap and
// stacks in use, goroutines.
type Memory struct {
	RSS, Heap, Goroutines int64
}

// MemoryOf reads process pid's resident bytes, and the Go figures from its
// /metrics page at metricsURL (read with the bearer token).
func MemoryOf(pid int, metricsURL, token string) (Memory, error) {
	var m Memory
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, fmt.Errorf("reading process %d's memory: %w", pid, err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return m, fmt.Errorf("reading process %d's VmRSS: %w", pid, err)
			}
			m.RSS = kb << 10
		}
	}
	page, err := scrape.Get(metricsURL, token)
	if err != nil {
		return m, err
	}
	heap, okHeap := page.Sum("go_memstats_heap_inuse_bytes", nil)
	stacks, okStacks := page.Sum("go_memstats_stack_inuse_bytes", nil)
	goroutines, okGoroutines := page.Sum("go_goroutines", nil)
	if !okHeap || !okStacks || !okGoroutines {
		return m, fmt.Errorf("%s lacks the Go heap, stack or goroutine figures", metricsURL)
	}
	m.Heap, m.Goroutines = int64(heap+stacks), int64(goroutines)
	return m, nil
}
