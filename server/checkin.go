package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/clientaddr"
)

// postCheckin confirms a booked visit at the kiosk by its code and issues
// its ticket (201; 200 when the same booking or request_id was confirmed
// before). Guessing is throttled per device (the token), per code and per
// address (429; booking.Guards says how a valid code still gets through).
func (s *Server) postCheckin(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	if p.Role() != RoleTicket && !p.MayManage() {
		forbid(w, "only ticket kiosks and staff confirm bookings")
		return
	}
	if s.booking == nil {
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: "this server takes no bookings"})
		return
	}
	var req protocol.CheckInRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	if req.Code == "" {
		s.commandError(w, r, a, "", &badRequest{field: "code", msg: "code: missing"})
		return
	}
	if err := checkLang(req.Lang); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	lang := req.Lang
	if lang == "" {
		lang = i18n.Normalize(r.Header.Get("Accept-Language"))
	}
	src := booking.Source{Device: "token:" + p.Token.ID, Addr: clientaddr.From(r)}
	res, err := s.booking.CheckIn(r.Context(), a, src, req.Code, queue.CheckIn{
		RequestID: scopedRequestID(p, req.RequestID), Device: p.Device(), Channel: queue.ChannelBooking, Lang: req.Lang,
	}, p.Name())
	switch {
	case errors.Is(err, booking.ErrThrottled):
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds(booking.RetryAfter(err))))
		writeError(w, http.StatusTooManyRequests, protocol.ErrorResponse{Error: err.Error(), Field: "code",
			Message: s.cat.T(lang, "web.checkin.throttled")})
		return
	case errors.Is(err, booking.ErrMalformedCode):
		writeError(w, http.StatusBadRequest, protocol.ErrorResponse{Error: "code: " + err.Error(), Field: "code",
			Message: s.cat.T(lang, "web.checkin.malformed")})
		return
	case errors.Is(err, booking.ErrNoSuchCode):
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: "code: " + err.Error(), Field: "code",
			Message: s.cat.T(lang, "web.checkin.unknown")})
		return
	case err != nil:
		// The office's refusals (too early, too late, cancelled) and
		// failures to ask it; the result carries no error of its own when
		// the desk refused before asking.
		s.commandError(w, r, a, lang, err)
		return
	}
	s.ticketResult(w, r, a, lang, res, http.StatusCreated)
}
