package server

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// The lockers' API: what a locker device reports of its doors, and the
// one-time codes of documents that need a second factor at pickup.
func (s *Server) lockerRoutes() {
	s.mux.HandleFunc("POST "+protocol.LockerReportsPath, s.locker(s.postLockerReport))
	s.mux.HandleFunc("POST "+protocol.LockerSecondFactorPath, s.locker(s.postSecondFactor))
	s.mux.HandleFunc("POST "+protocol.LockerSecondFactorCheckPath, s.locker(s.postSecondFactorCheck))
}

// lockerHandler serves a request of a locker device about one locker of
// its office.
type lockerHandler func(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor, l queue.Locker)

// locker admits only a locker device of the office in the path, for a
// locker that office has.
func (s *Server) locker(h lockerHandler) http.HandlerFunc {
	return s.office(func(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor) {
		if p.Role() != RoleLocker {
			forbid(w, "only a locker device of this office reports for its lockers")
			return
		}
		id := r.PathValue("locker")
		l, ok := a.Office().Locker(id)
		if !ok {
			writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: fmt.Sprintf("no locker %q in office %s", id, a.Office().ID), Field: "locker"})
			return
		}
		h(w, r, p, a, l)
	})
}

// lockerReportKinds are the kinds a report may have; the first three
// change a deposit, the rest are the doors' troubles, which the device's
// health report carries to the fleet.
var lockerReportKinds = []string{
	protocol.LockerReportStored, protocol.LockerReportPickedUp, protocol.LockerReportRetrieved,
	protocol.LockerReportLockFailed, protocol.LockerReportDoorForced,
	protocol.LockerReportDoorLeftOpen, protocol.LockerReportDoorClosed,
}

// maxReportID bounds a report's id, which the server remembers.
const maxReportID = 64

// maxClockAhead is how far ahead of the server a report's time may be
// before the server's own time replaces it: a device clock that ran
// ahead must not put a pickup in the future.
const maxClockAhead = time.Minute

func (s *Server) postLockerReport(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor, l queue.Locker) {
	var rep protocol.LockerReport
	if err := decodeJSON(w, r, &rep); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	if err := checkLockerReport(rep, l); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	key := a.Office().ID + "/" + l.ID + "/" + rep.ID
	if answer, ok := s.lockerReports.get(key); ok {
		writeJSON(w, http.StatusOK, answer)
		return
	}
	cmd, err := s.lockerReportCommand(r, a, l, rep)
	if err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	answer := protocol.LockerReportAnswer{Seq: a.Seq()}
	if cmd == nil {
		// A door's trouble: acknowledged so the device stops sending it;
		// the fleet learns of it from the health report.
		s.log.Info("locker report", "office", a.Office().ID, "locker", l.ID, "compartment", rep.Compartment, "kind", rep.Kind)
	} else {
		res := a.Do(r.Context(), p.Name(), cmd)
		if res.Err != nil {
			s.commandError(w, r, a, "", res.Err)
			return
		}
		// Applied: the deposit is where the report says, now or by an
		// earlier copy of this report (a retry after the server's
		// restart, when its memory of reports is gone).
		answer = protocol.LockerReportAnswer{Applied: true, Seq: a.Seq()}
	}
	s.lockerReports.put(key, answer)
	writeJSON(w, http.StatusOK, answer)
}

// checkLockerReport says what is wrong with a report, if anything.
func checkLockerReport(rep protocol.LockerReport, l queue.Locker) error {
	switch {
	case rep.ID == "" || len(rep.ID) > maxReportID:
		return &badRequest{field: "id", msg: fmt.Sprintf("id: the report's journal id of 1-%d characters is needed", maxReportID)}
	case !slices.Contains(lockerReportKinds, rep.Kind):
		return &badRequest{field: "kind", msg: fmt.Sprintf("kind: %q is not one of %v", rep.Kind, lockerReportKinds)}
	case rep.At.IsZero():
		return &badRequest{field: "at", msg: "at: the device's time of the event is needed"}
	}
	if _, ok := l.Compartment(rep.Compartment); !ok {
		return &badRequest{field: "compartment", msg: fmt.Sprintf("compartment: locker %s has no compartment %q", l.ID, rep.Compartment)}
	}
	if depositReport(rep.Kind) && rep.Deposit == "" {
		return &badRequest{field: "deposit", msg: fmt.Sprintf("deposit: a %s report names its deposit", rep.Kind)}
	}
	return nil
}

func depositReport(kind string) bool {
	return kind == protocol.LockerReportStored || kind == protocol.LockerReportPickedUp || kind == protocol.LockerReportRetrieved
}

// errDepositElsewhere refuses a report about a deposit of another locker
// or compartment: the device's replica and the server disagree.
type errDepositElsewhere struct{ deposit, locker, compartment string }

func (e errDepositElsewhere) Error() string {
	return fmt.Sprintf("deposit %s is not in compartment %s of locker %s", e.deposit, e.compartment, e.locker)
}

// lockerReportCommand is the command a report asks for, nil for a
// door's trouble.
func (s *Server) lockerReportCommand(r *http.Request, a *actor.Actor, l queue.Locker, rep protocol.LockerReport) (queue.Command, error) {
	if !depositReport(rep.Kind) {
		return nil, nil
	}
	var where *queue.Deposit
	if err := a.Query(r.Context(), func(st *queue.State) {
		if d := st.Deposits[rep.Deposit]; d != nil {
			c := *d
			where = &c
		}
	}); err != nil {
		return nil, fmt.Errorf("reading deposit %s: %w", rep.Deposit, err)
	}
	if where != nil && (where.Locker != l.ID || where.Compartment != rep.Compartment) {
		return nil, &badRequest{field: "deposit", msg: errDepositElsewhere{rep.Deposit, l.ID, rep.Compartment}.Error(), status: http.StatusConflict}
	}
	at := rep.At
	if now := s.clock(); at.After(now.Add(maxClockAhead)) {
		at = now
	}
	switch rep.Kind {
	case protocol.LockerReportStored:
		return queue.StoreDeposit{Deposit: rep.Deposit, At: at}, nil
	case protocol.LockerReportPickedUp:
		return queue.PickUpDeposit{Deposit: rep.Deposit, At: at, Offline: rep.Offline}, nil
	default:
		return queue.RetrieveDeposit{Deposit: rep.Deposit, At: at}, nil
	}
}

// secondFactorDeposit is the deposit a second-factor request is about,
// after checking that it is this locker's, waiting inside, and needs a
// second factor; ok is false when the answer is written.
func (s *Server) secondFactorDeposit(w http.ResponseWriter, r *http.Request, a *actor.Actor, l queue.Locker) (string, bool) {
	if s.secondFactor == nil {
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: "this server sends no one-time codes for lockers"})
		return "", false
	}
	id := r.PathValue("deposit")
	var d *queue.Deposit
	if err := a.Query(r.Context(), func(st *queue.State) {
		if found := st.Deposits[id]; found != nil {
			c := *found
			d = &c
		}
	}); err != nil {
		s.commandError(w, r, a, "", err)
		return "", false
	}
	switch {
	case d == nil || d.Locker != l.ID:
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: fmt.Sprintf("no deposit %q in locker %s", id, l.ID), Field: "deposit"})
		return "", false
	case !d.SecondFactor:
		writeError(w, http.StatusConflict, protocol.ErrorResponse{Error: fmt.Sprintf("deposit %s needs no second factor", id)})
		return "", false
	case d.State != queue.DepositStateStored && d.State != queue.DepositStateExpired:
		writeError(w, http.StatusConflict, protocol.ErrorResponse{Error: fmt.Sprintf("deposit %s is %s: nothing waits to be picked up", id, d.State)})
		return "", false
	}
	return id, true
}

// postSecondFactor sends the deposit's one-time code to the resident.
func (s *Server) postSecondFactor(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor, l queue.Locker) {
	var empty struct{}
	if err := decodeJSON(w, r, &empty); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	id, ok := s.secondFactorDeposit(w, r, a, l)
	if !ok {
		return
	}
	to, err := s.secondFactor.Send(r.Context(), a.Office().ID, id)
	if err != nil {
		// The error may name the phone: it is not logged, only said to be.
		s.log.Error("sending a locker's one-time code failed", "office", a.Office().ID, "locker", l.ID, "deposit", id)
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: "the one-time code could not be sent; try again or call staff"})
		return
	}
	writeJSON(w, http.StatusAccepted, protocol.LockerSecondFactorSent{SentTo: to})
}

// postSecondFactorCheck checks the one-time code the resident typed.
func (s *Server) postSecondFactorCheck(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor, l queue.Locker) {
	var req protocol.LockerSecondFactorCode
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, a, "", err)
		return
	}
	if req.Code == "" || len(req.Code) > 16 {
		s.commandError(w, r, a, "", &badRequest{field: "code", msg: "code: the one-time code the resident typed is needed"})
		return
	}
	id, ok := s.secondFactorDeposit(w, r, a, l)
	if !ok {
		return
	}
	right, err := s.secondFactor.Check(r.Context(), a.Office().ID, id, req.Code)
	if err != nil {
		s.log.Error("checking a locker's one-time code failed", "office", a.Office().ID, "locker", l.ID, "deposit", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: "the one-time code could not be checked; try again"})
		return
	}
	if !right {
		writeError(w, http.StatusUnprocessableEntity, protocol.ErrorResponse{Error: "the one-time code is wrong or no longer valid", Field: "code"})
		return
	}
	writeJSON(w, http.StatusOK, protocol.LockerSecondFactorResult{OK: true})
}

// lockerReportMemory remembers the answers to the reports applied, so a
// retry (the device did not get the answer) is answered the same and
// applied once. It holds the most recent maxRemembered; older retries
// are still applied once, as the commands are idempotent.
type lockerReportMemory struct {
	mu      sync.Mutex
	answers map[string]protocol.LockerReportAnswer
	order   []string
}

const maxRemembered = 10000

func newLockerReportMemory() *lockerReportMemory {
	return &lockerReportMemory{answers: map[string]protocol.LockerReportAnswer{}}
}

func (m *lockerReportMemory) get(key string) (protocol.LockerReportAnswer, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.answers[key]
	return a, ok
}

func (m *lockerReportMemory) put(key string, a protocol.LockerReportAnswer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.answers[key]; ok {
		return
	}
	m.answers[key] = a
	m.order = append(m.order, key)
	if len(m.order) > maxRemembered {
		delete(m.answers, m.order[0])
		m.order = m.order[1:]
	}
}
