package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/numerek/numerek/server/outbox"
)

// MessageCounter is the outbox as the metrics read it.
type MessageCounter interface {
	Counts() (map[outbox.Tally]int, error)
}

var messagesDesc = prometheus.NewDesc("numerek_messages",
	"Messages in the outbox, by channel (email, sms) and state (pending, sent, failed, no-channel); sent ones are kept for two days.",
	[]string{"channel", "state"}, nil)

// WatchOutbox registers the gauge of the outbox's messages, counted in
// its file when Prometheus scrapes.
func (s *Set) WatchOutbox(ob MessageCounter) {
	s.reg.MustRegister(&outboxCollector{ob: ob, set: s})
}

type outboxCollector struct {
	ob  MessageCounter
	set *Set
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- messagesDesc }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.ob.Counts()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(messagesDesc, err)
		return
	}
	// Every channel and state appears, at 0 too, so a panel's query has
	// a series before the first message.
	for _, chn := range []outbox.Channel{outbox.Email, outbox.SMS} {
		for _, st := range []outbox.State{outbox.Pending, outbox.Sent, outbox.Failed, outbox.NoChannel} {
			ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(counts[outbox.Tally{Channel: chn, State: st}]), string(chn), string(st))
		}
	}
}
