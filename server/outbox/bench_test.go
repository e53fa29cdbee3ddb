package outbox

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/smtpsink"
)

// BenchmarkConfirmationEmail is a booking's confirmation from Send (the
// desk handing it over) until the local SMTP server has read its DATA:
// stored durably in the outbox file, composed (QR code, calendar entry)
// and handed over by go-mail. The bound is p99 < 2 s.
func BenchmarkConfirmationEmail(b *testing.B) {
	arrived := make(chan time.Time, 1)
	sink := smtpsink.Start(b, "127.0.0.1:0", smtpsink.Options{OnData: func(m smtpsink.Message) { arrived <- m.At }})
	ob := openTest(b, b.TempDir(), Options{Email: NewMailer(emailConfig(sink.Port()), testComposer())})
	defer ob.Close()
	var delays []time.Duration
	i := 0
	for b.Loop() {
		n := bookedNotice("pl", "jan.kowalski@example.pl")
		n.Key = fmt.Sprint("booked/bench/", i)
		i++
		start := time.Now()
		if err := ob.Send(context.Background(), n); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-arrived:
			delays = append(delays, at.Sub(start))
		case <-time.After(10 * time.Second):
			b.Fatal("the e-mail did not reach the SMTP server in 10 s")
		}
	}
	slices.Sort(delays)
	ms := func(q float64) float64 {
		return float64(delays[min(int(q*float64(len(delays))), len(delays)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
