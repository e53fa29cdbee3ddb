package procstat

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestCPUTicksCountsWork(t *testing.T) {
	before, err := CPUTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	own := OwnCPU()
	// Work until the kernel has counted two ticks of it.
	x := 0
	for after := before; after < before+2; after, _ = CPUTicks(os.Getpid()) {
		for i := range 1_000_000 {
			x += i
		}
	}
	if later := OwnCPU(); later <= own {
		t.Errorf("OwnCPU went from %v to %v over the work", own, later)
	}
	if _, err := CPUTicks(1 << 30); err == nil {
		t.Error("a process that does not exist has a CPU time")
	}
	_ = x
}

func TestMemoryOf(t *testing.T) {
	tests := []struct {
		name, page string
		wantErr    string
		heap, gor  int64
	}{
		{name: "all figures", page: "go_memstats_heap_inuse_bytes 1000\ngo_memstats_stack_inuse_bytes 24\ngo_goroutines 7\n", heap: 1024, gor: 7},
		{name: "no goroutines", page: "go_memstats_heap_inuse_bytes 1000\ngo_memstats_stack_inuse_bytes 24\n", wantErr: "lacks the Go heap, stack or goroutine figures"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer secret" {
					http.Error(w, "who are you", http.StatusUnauthorized)
					return
				}
				w.Write([]byte(tt.page))
			}))
			defer srv.Close()
			m, err := MemoryOf(os.Getpid(), srv.URL, "secret")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Heap != tt.heap || m.Goroutines != tt.gor || m.RSS <= 0 {
				t.Errorf("memory %+v, want heap %d, goroutines %d and some resident bytes", m, tt.heap, tt.gor)
			}
		})
	}
}
