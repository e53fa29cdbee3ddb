package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/actor"
)

// A device's request id may be up to 64 characters (docs/api.md and
// api/openapi.yaml), whatever the server adds to keep devices apart; a
// longer one is refused naming request_id.
func TestRequestIDsUpTo64Characters(t *testing.T) {
	e := newEnv(t, actor.Options{})
	for _, n := range []int{1, 53, 54, 64} {
		id := strings.Repeat("k", n-1) + "1"
		body := fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":%q}`, id)
		first := decode[protocol.TicketResponse](t, e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), body))
		again := decode[protocol.TicketResponse](t, e.must(http.StatusOK, "ticket", "POST", e.path("/tickets"), body))
		if first.Ticket.ID != again.Ticket.ID {
			t.Errorf("request id of %d characters: %s, then %s", n, first.Ticket.ID, again.Ticket.ID)
		}
	}
	// Two long ids that differ only at their end are two requests.
	a := decode[protocol.TicketResponse](t, e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"),
		fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":%q}`, strings.Repeat("k", 63)+"2")))
	b := decode[protocol.TicketResponse](t, e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"),
		fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":%q}`, strings.Repeat("k", 63)+"3")))
	if a.Ticket.ID == b.Ticket.ID {
		t.Errorf("two long request ids gave one ticket %s", a.Ticket.ID)
	}
	status, data := e.call("ticket", "POST", e.path("/tickets"), fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":%q}`, strings.Repeat("k", 65)))
	resp := decode[protocol.ErrorResponse](t, data)
	if status != http.StatusBadRequest || resp.Field != "request_id" || resp.Code != "request-id-too-long" {
		t.Errorf("a request id of 65 characters: %d %+v, want 400 naming request_id", status, resp)
	}
}
