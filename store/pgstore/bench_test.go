package pgstore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
)

// ticketEvents are n events of the size a day's log is made of, seqs
// from 1.
func ticketEvents(n int) []queue.Event {
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	out := make([]queue.Event, n)
	for i := range out {
		out[i] = queue.Event{Seq: uint64(i + 1), At: at.Add(time.Duration(i) * time.Second), Actor: "kiosk:lobby",
			Body: queue.TicketIssued{Ticket: queue.Ticket{ID: fmt.Sprintf("t%d", i), Day: "2026-11-23", Number: fmt.Sprintf("A%03d", i%1000), Service: "documents", Channel: queue.ChannelKiosk, Lang: "pl", IssuedAt: at, QueuedAt: at, Order: uint64(i + 1)}, RequestID: fmt.Sprintf("req-%d", i)}}
	}
	return out
}

// appendRate has each of offices writers (one per office: the lease
// allows no more) append perOffice events in transactions of batch
// events, all at once, and returns the events made durable per second.
func appendRate(b *testing.B, db *DB, run string, offices, perOffice, batch int) float64 {
	b.Helper()
	events := ticketEvents(perOffice)
	writers := make([]*Office, offices)
	for i := range writers {
		writers[i], _ = leading(b, db, fmt.Sprintf("%s-%d", run, i), Node{ID: "bench", URL: "http://bench"}, OfficeOptions{LeaseTTL: time.Minute})
	}
	var wg sync.WaitGroup
	errs := make(chan error, offices)
	began := time.Now()
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < len(events); i += batch {
				if err := w.Append(events[i:min(i+batch, len(events))]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return float64(offices*perOffice) / elapsed.Seconds()
}

// BenchmarkPGDurableCommands measures commands (one event each) made
// durable in PostgreSQL per second, its fsync on: one transaction per
// command against group commit (64 per transaction, as the actor
// batches what arrives while the previous batch is being written), for
// one office, then for eight offices writing at once, where PostgreSQL
// itself shares one WAL flush among concurrent commits.
func BenchmarkPGDurableCommands(b *testing.B) {
	db := open(b, migrated(b))
	for _, tt := range []struct {
		name    string
		offices int
	}{{"one-office", 1}, {"eight-offices", 8}} {
		b.Run(tt.name, func(b *testing.B) {
			single := appendRate(b, db, tt.name+"-single", tt.offices, 400, 1)
			grouped := appendRate(b, db, tt.name+"-grouped", tt.offices, 64*100, 64)
			for b.Loop() {
			}
			b.ReportMetric(grouped, "cmds/s")
			b.ReportMetric(single, "cmds/s-1tx")
			b.ReportMetric(grouped/single, "speedup-x")
			b.ReportMetric(0, "ns/op")
		})
	}
}
