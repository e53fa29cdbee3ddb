package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/fleet"
)

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /api/v1/openapi.yaml", serveDocument)
	if s.metrics != nil {
		s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	}
	s.mux.HandleFunc("GET /api/v1/offices", s.listOffices)
	s.mux.HandleFunc("GET /api/v1/whoami", s.whoAmI)
	s.mux.HandleFunc("GET /api/v1/offices/{office}/state", s.office(s.getState))
	s.mux.HandleFunc("GET /api/v1/offices/{office}/config", s.office(s.getConfig))
	s.mux.HandleFunc("GET /api/v1/offices/{office}/events", s.Stream(s.office(s.getEvents)))
	s.mux.HandleFunc("POST /api/v1/offices/{office}/tickets", s.office(s.postTicket))
	s.mux.HandleFunc("GET /api/v1/offices/{office}/tickets/{ticket}", s.office(s.getTicket))
	s.mux.HandleFunc("POST /api/v1/offices/{office}/tickets/{ticket}/cancel", s.office(s.cancelTicket))
	s.mux.HandleFunc("POST /api/v1/offices/{office}/tickets/{ticket}/transfer", s.office(s.moveTicket))
	s.mux.HandleFunc("POST /api/v1/offices/{office}/counters/{counter}/{action}", s.office(s.counterAction))
	s.mux.HandleFunc("POST /api/v1/offices/{office}/leases", s.office(s.postLease))
	s.mux.HandleFunc("POST /api/v1/offices/{office}/leased-tickets", s.office(s.postLeasedTicket))
	s.mux.HandleFunc("POST /api/v1/offices/{office}/withdrawals", s.office(s.postWithdrawal))
	s.mux.HandleFunc("POST /api/v1/offices/{office}/faults", s.office(s.postFault))
	s.mux.HandleFunc("POST /api/v1/offices/{office}/checkins", s.office(s.postCheckin))
	s.actionRoutes()
	s.updateRoutes()
	s.lockerRoutes()
	s.mux.HandleFunc("POST "+protocol.PairingPath, s.postPairing)
	s.mux.HandleFunc("POST "+protocol.PairingTokenPath, s.postPairingToken)
	s.mux.HandleFunc("GET "+protocol.DeviceConfigPath, s.getDeviceConfig)
	s.mux.HandleFunc("POST "+protocol.DeviceHealthPath, s.postHealth)
	s.mux.HandleFunc("GET /api/v1/fleet", s.getFleet)
	// What no route above takes is answered in JSON, not by the mux's
	// plain-text 404 and 405.
	s.mux.HandleFunc("/api/", s.noRoute)
	s.mux.HandleFunc("/api", s.noRoute)
	s.mux.HandleFunc("/healthz", s.noRoute)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "offices": len(s.offices)})
}

func (s *Server) listOffices(w http.ResponseWriter, r *http.Request) {
	p, ok := s.Authenticate(w, r)
	if !ok {
		return
	}
	resp := protocol.OfficesResponse{Offices: []protocol.OfficeRef{}}
	for _, id := range s.order {
		if p.SeesOffice(id) {
			resp.Offices = append(resp.Offices, protocol.OfficeRef{ID: id, Name: s.offices[id].Office().Name})
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) whoAmI(w http.ResponseWriter, r *http.Request) {
	p, ok := s.Authenticate(w, r)
	if !ok {
		return
	}
	t := p.Token
	writeJSON(w, http.StatusOK, protocol.WhoAmI{TokenID: t.ID, Office: t.Office, Role: t.Role, Counter: t.Counter, Label: t.Label, Device: p.Device()})
}

func (s *Server) getState(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	v, err := a.View(r.Context())
	if err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	writeJSON(w, http.StatusOK, a.Office())
}

func (s *Server) getEvents(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	cursor, err := protocol.Cursor(r)
	if err != nil {
		// The header wins over the query parameter (protocol.Cursor).
		field := "Last-Event-ID"
		if r.Header.Get("Last-Event-ID") == "" {
			field = "after"
		}
		writeError(w, http.StatusBadRequest, protocol.ErrorResponse{Error: err.Error(), Field: field})
		return
	}
	// A client resuming here what another node served it waits for this
	// node's replica to have what it had (a moment, on a follower).
	a.CatchUp(r.Context(), cursor)
	var ctl *fleet.Conn
	if p.IsDevice() {
		// The fleet knows the device is connected while its stream is
		// open; a device that asks gets its control events on it too.
		ctl = s.fleet.Attach(p.Token.ID, r.Header.Get(protocol.ControlHeader) != "")
		// An update order waiting for the device goes out on the new
		// stream first.
		s.updates.Send(p.Token.ID)
	}
	closed := s.StreamOpened(DeviceStream)
	// The stream may outlive this handler (StreamEvents detaches it).
	StreamEvents(w, r, a, cursor, s.heartbeat, ctl, func() {
		if ctl != nil {
			s.fleet.Detach(ctl)
		}
		closed()
	})
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	id := r.PathValue("ticket")
	var tv queue.TicketView
	found := false
	err := a.Query(r.Context(), func(st *queue.State) { tv, found = st.TicketView(id, s.clock()) })
	if err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: "no ticket " + strconv.Quote(id) + " today", Field: "ticket"})
		return
	}
	s.writeTicket(w, http.StatusOK, a, tv)
}

// channelFor is the channel a principal's tickets come through: kiosks
// only through the kiosk; staff may issue for the phone or as the hall
// assistant.
func channelFor(p Principal, asked string) (queue.Channel, error) {
	switch {
	case asked == "" && p.Role() == RoleTicket:
		return queue.ChannelKiosk, nil
	case asked == "":
		return queue.ChannelAssistant, nil
	case p.Role() == RoleTicket && asked != string(queue.ChannelKiosk):
		return "", &badRequest{field: "channel", msg: fmt.Sprintf("channel: a ticket kiosk issues only %q tickets", queue.ChannelKiosk)}
	}
	ch := queue.Channel(asked)
	if !ch.Valid() || ch == queue.ChannelBooking {
		return "", &badRequest{field: "channel", msg: fmt.Sprintf("channel: %q is not one of kiosk, phone, assistant", asked)}
	}
	return ch, nil
}

func (s *Server) postTicket(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	if !p.MayIssue() {
		forbid(w, "a "+string(p.Role())+" token may not issue tickets")
		return
	}
	var req protocol.IssueRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	ch, err := channelFor(p, req.Channel)
	if err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	if req.Service == "" {
		s.commandError(w, r, a, "", &badRequest{field: "service", msg: "service: missing"})
		return
	}
	if err := checkLang(req.Lang); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	res := a.Do(r.Context(), p.Name(), queue.Issue{
		Service: req.Service, Lang: req.Lang, Priority: req.Priority, Channel: ch,
		RequestID: scopedRequestID(p, req.RequestID), Device: p.Device(),
	})
	s.ticketResult(w, r, a, req.Lang, res, http.StatusCreated)
}

// checkLang refuses a language the product does not speak; empty is left
// to the command (an issue refuses it, a check-in takes the booking's).
func checkLang(lang string) error {
	if lang != "" && !i18n.Supported(lang) {
		return &badRequest{field: "lang", msg: fmt.Sprintf("lang: %q is not one of pl, en, lt, ru, uk", lang)}
	}
	return nil
}

// maxRequestID is the longest request id a device may choose (docs/api.md),
// and the longest the office stores.
const maxRequestID = 64

// scopedRequestID keeps one device's request ids apart from another's by
// the token's id. A device's id that fits but would not fit with the
// token's id before it goes by its digest instead (ids that fit stay as
// they always were stored); one too long stays too long, for the office
// to refuse.
func scopedRequestID(p Principal, id string) string {
	if id == "" {
		return ""
	}
	scoped := p.Token.ID + "/" + id
	if len(scoped) > maxRequestID && len(id) <= maxRequestID {
		sum := sha256.Sum256([]byte(id))
		scoped = p.Token.ID + "/#" + hex.EncodeToString(sum[:20])
	}
	return scoped
}

// ticketResult answers with the command's ticket: created (201) when the
// command added events, 200 when it returned a ticket already issued.
func (s *Server) ticketResult(w http.ResponseWriter, r *http.Request, a *actor.Actor, lang string, res actor.Result, created int) {
	if res.Err != nil {
		s.commandError(w, r, a, lang, res.Err)
		return
	}
	if res.Ticket == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status := http.StatusOK
	if len(res.Decision.Events) > 0 {
		status = created
	}
	s.writeTicket(w, status, a, *res.Ticket)
}

// writeTicket answers with a ticket and, when the server signs links, its
// e-ticket address.
func (s *Server) writeTicket(w http.ResponseWriter, status int, a *actor.Actor, tv queue.TicketView) {
	resp := protocol.TicketResponse{Ticket: tv}
	if s.links != nil {
		resp.ETicketURL = s.links.TicketURL(a.Office().ID, tv.ID)
	}
	writeJSON(w, status, resp)
}

func (s *Server) cancelTicket(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	if !p.MayManage() {
		forbid(w, "only clerks and admins cancel tickets")
		return
	}
	res := a.Do(r.Context(), p.Name(), queue.CancelTicket{Ticket: r.PathValue("ticket"), Reason: "cancelled by staff"})
	s.ticketResult(w, r, a, "", res, http.StatusOK)
}

// moveTicket is the hall assistant's move of a waiting ticket.
func (s *Server) moveTicket(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	if !p.MayManage() {
		forbid(w, "only clerks and admins move waiting tickets")
		return
	}
	var req protocol.TransferRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	res := a.Do(r.Context(), p.Name(), queue.Transfer{
		Ticket: r.PathValue("ticket"), ToService: req.ToService, ToCounter: req.ToCounter, KeepPlace: req.KeepPlace, Note: req.Note,
	})
	s.ticketResult(w, r, a, "", res, http.StatusOK)
}

// counterAction does one of the counter's actions (queue's table names
// them and checks their parameters), answering with the ticket acted on,
// or with the counter for an action that sets its status.
func (s *Server) counterAction(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	act, err := queue.CounterActionNamed(r.PathValue("action"))
	if err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	n, err := strconv.Atoi(r.PathValue("counter"))
	if err != nil {
		writeError(w, http.StatusBadRequest, protocol.ErrorResponse{Error: fmt.Sprintf("counter: %q is not a number", r.PathValue("counter")), Field: "counter"})
		return
	}
	if _, ok := a.Office().Counter(n); !ok {
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: fmt.Sprintf("no counter %d in office %s", n, a.Office().ID), Field: "counter"})
		return
	}
	if !p.MayActAt(n) {
		forbid(w, fmt.Sprintf("this token may not act at counter %d", n))
		return
	}
	// An action without parameters reads no body: devices send an empty
	// object, other clients nothing at all. One whose parameters may all
	// be left out (finish) reads a body only when one is sent.
	var params queue.CounterParams
	if len(act.Params) > 0 && (!act.Optional || r.ContentLength != 0) {
		if err := decodeJSON(w, r, &params); err != nil {
			s.commandError(w, r, a, "", err)
			return
		}
	}
	cmd, err := act.Command(n, params)
	if err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	res := a.Do(r.Context(), p.Name(), cmd)
	if act.Status == "" {
		s.ticketResult(w, r, a, "", res, http.StatusOK)
		return
	}
	if res.Err != nil {
		s.commandError(w, r, a, "", res.Err)
		return
	}
	v, err := a.View(r.Context())
	if err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	for _, c := range v.Counters {
		if c.Number == n {
			writeJSON(w, http.StatusOK, protocol.CounterResponse{Counter: c})
			return
		}
	}
}

func (s *Server) postLease(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	if p.Role() != RoleTicket {
		forbid(w, "only ticket kiosks hold number leases")
		return
	}
	var req protocol.LeaseRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	res := a.Do(r.Context(), p.Name(), queue.GrantLease{ID: hex.EncodeToString(id), Device: p.Token.ID, Service: req.Service, Count: req.Count})
	if res.Err != nil {
		s.commandError(w, r, a, "", res.Err)
		return
	}
	writeJSON(w, http.StatusCreated, protocol.LeaseResponse{Lease: *res.Decision.Lease})
}

func (s *Server) postLeasedTicket(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	if p.Role() != RoleTicket {
		forbid(w, "only ticket kiosks hand in leased tickets")
		return
	}
	var req protocol.LeasedTicketRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	res := a.Do(r.Context(), p.Name(), queue.IssueLeased{
		RequestID: scopedRequestID(p, req.RequestID), Device: p.Token.ID, Service: req.Service, Number: req.Number,
		IssuedAt: req.IssuedAt, Lang: req.Lang, Priority: req.Priority,
	})
	if res.Err == nil && res.Decision.Expired {
		// A ticket of a day that had ended when it came: accepted into the
		// log, not into a queue.
		writeJSON(w, http.StatusAccepted, map[string]string{"ticket": res.Decision.Ticket, "state": "expired"})
		return
	}
	s.ticketResult(w, r, a, req.Lang, res, http.StatusCreated)
}

// postWithdrawal takes a kiosk's word that it printed nothing for one of
// its requests: the ticket the request gave, if nobody can have come for
// it yet, is withdrawn (200 with the ticket, now cancelled; 200 with its
// state when it stays; 204 when the request gave none), and the request
// gives no ticket afterwards.
func (s *Server) postWithdrawal(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	if p.Role() != RoleTicket {
		forbid(w, "only ticket kiosks withdraw their requests")
		return
	}
	var req protocol.WithdrawRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	if req.RequestID == "" {
		s.commandError(w, r, a, "", &badRequest{field: "request_id", msg: "request_id: missing"})
		return
	}
	res := a.Do(r.Context(), p.Name(), queue.WithdrawRequest{RequestID: scopedRequestID(p, req.RequestID)})
	s.ticketResult(w, r, a, "", res, http.StatusOK)
}

func (s *Server) postFault(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
	if !p.IsDevice() {
		forbid(w, "only devices report their faults")
		return
	}
	var req protocol.FaultRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	res := a.Do(r.Context(), p.Name(), queue.ReportFault{Device: p.Device(), Fault: req.Fault, Detail: req.Detail})
	if res.Err != nil {
		s.commandError(w, r, a, "", res.Err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
