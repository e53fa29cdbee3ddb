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
	// The fields after the command's name, which may hold spaces: utime
	// and stime are the 12th and 13th.
	var f []string
	if end := strings.LastIndexByte(string(data), ')'); end >= 0 && end+2 <= len(data) {
		f = strings.Fields(string(data[end+2:]))
	}
	if len(f) < 13 {
		return 0, fmt.Errorf("process %d's /proc stat has %d fields after its name, want 13 or more", pid, len(f))
	}
	utime, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("process %d's utime: %w", pid, err)
	}
	stime, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("process %d's stime: %w", pid, err)
	}
	return utime + stime, nil
}

// OwnCPU is this process's CPU time so far (user and system). getrusage
// of this process fails only for a bad pointer or "who", neither of which
// it is given.
func OwnCPU() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
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
