package queue

import "testing"

// TestAheadOfNew checks that what a kiosk offline says is ahead of a new
// ticket is what the office says once the ticket is issued: only the same
// service's waiting tickets count, not called ones nor other services'.
func TestAheadOfNew(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1, 2, 3)
	tests := []struct {
		name    string
		step    func()
		service string
		want    int
	}{
		{"empty office", func() {}, "family", 0},
		{"three family waiting", func() { h.issue("family"); h.issue("family"); h.issue("family") }, "family", 3},
		{"another service's ticket does not count", func() { h.issue("docs") }, "family", 3},
		{"a called ticket is no longer ahead", func() { h.callNext(1) }, "family", 2},
		{"the other service's own line", func() {}, "docs", 1},
	}
	for _, tt := range tests {
		tt.step()
		got := h.s.AheadOfNew(tt.service)
		if got != tt.want {
			t.Errorf("%s: AheadOfNew(%s) = %d, want %d", tt.name, tt.service, got, tt.want)
		}
		// The server's answer for the ticket once issued says the same.
		nt := h.issue(tt.service)
		tv, ok := h.s.TicketView(nt.ID, h.now)
		if !ok || tv.Ahead != got {
			t.Errorf("%s: issued %s has %d ahead (ok=%v), AheadOfNew said %d", tt.name, nt.Number, tv.Ahead, ok, got)
		}
		h.do(CancelTicket{Ticket: nt.ID})
	}
}
