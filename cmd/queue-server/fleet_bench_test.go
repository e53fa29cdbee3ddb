package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/procstat"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/store"
)

// procTicks is a process's CPU time so far (user and system), in
// procstat.Hz ticks a second.
func procTicks(b *testing.B, pid int) int64 {
	b.Helper()
	ticks, err := procstat.CPUTicks(pid)
	if err != nil {
		b.Fatal(err)
	}
	return ticks
}

// BenchmarkFleetReports runs a real queue-server process and a fleet of
// 1,000 simulated devices (a third each ticket kiosks, halls and counter
// displays, each with its own token), each sending one health report per
// round, a round being 30 s of the fleet's life (protocol.HealthEvery).
// The rounds are sent back to back, and the server's CPU time over them
// is divided by the 30 s each stands for: the share of one core the
// fleet costs. In each round a twentieth of the kiosks' paper comes near
// its end and as many rolls are changed, so faults begin and end and are
// written to fleet.db. Not
// included: the batched write of the last reports every 2 min (see
// BenchmarkFleetFlush in server/fleet).
func BenchmarkFleetReports(b *testing.B) {
	const devices = 1000
	bin := buildServer(b)
	data := b.TempDir()
	ts := store.NewTokenStore(filepath.Join(data, "tokens.db"))
	tokens := make([]string, devices)
	roles := make([]string, devices)
	for i := range tokens {
		roles[i] = []string{"ticket", "hall", "counter"}[i%3]
		tok := store.Token{Office: officeID, Role: roles[i], Label: fmt.Sprintf("device-%04d", i)}
		if roles[i] == "counter" {
			tok.Counter = 1 + i%6
		}
		secret, _, err := ts.Create(tok)
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = secret
	}
	srv := startServerWith(b, bin, "--data", data)
	url := strings.TrimSuffix(srv.base, "/api/v1/offices/"+officeID) + protocol.DeviceHealthPath
	body := func(i, round int) []byte {
		temp := 52.0 + float64(i%10)
		r := protocol.HealthReport{
			Version: "1.4.0", Role: roles[i], Name: fmt.Sprintf("device-%04d", i), Started: time.Now().Add(-time.Hour), UptimeS: 3600,
			TemperatureC: &temp, DiskFreeBytes: 9 << 30, DiskSizeBytes: 16 << 30, ClockOffsetMS: 40,
			Stream: protocol.StreamHealth{Connected: true, Seq: uint64(round), LagMS: 30},
			Screen: protocol.ScreenHealth{Drawing: true, LastFrame: time.Now(), Width: 1920, Height: 1080},
		}
		if roles[i] == "ticket" {
			r.Printer = &protocol.PrinterHealth{URI: "usb:///dev/usb/lp0", Online: true, PaperNearEnd: (i+round)%20 < 1, LastTicket: "A017"}
		}
		data, _ := json.Marshal(r)
		return data
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var latMu sync.Mutex
	var lat []time.Duration
	roundOf := func(round int) {
		jobs := make(chan int)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body(i, round)))
					req.Header.Set("Authorization", "Bearer "+tokens[i])
					start := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					took := time.Since(start)
					if resp.StatusCode != http.StatusOK {
						b.Errorf("report: %d", resp.StatusCode)
					}
					latMu.Lock()
					lat = append(lat, took)
					latMu.Unlock()
				}
			}()
		}
		for i := range devices {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
	}
	roundOf(0) // every device known, connections open
	lat = nil
	pid := srv.cmd.Process.Pid
	before := procTicks(b, pid)
	rounds := 0
	for b.Loop() {
		rounds++
		roundOf(rounds)
	}
	cpu := float64(procTicks(b, pid)-before) / procstat.Hz
	b.ReportMetric(cpu/(float64(rounds)*protocol.HealthEvery.Seconds())*100, "cpu-%")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100])/float64(time.Millisecond), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
