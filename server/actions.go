package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/store"
)

// Remote actions (docs/devices-remote.md): an admin asks a device for one
// (here through the API, or on the staff pages), the device hears it on
// its event stream and answers on the routes below, with its own token.

// maxDetail is how much of a device's detail on a result is kept.
const maxDetail = 500

// ActionRequest asks a device for a remote action.
type ActionRequest struct {
	Kind string `json:"kind"`
}

// ActionStatus is a remote action and how it went.
type ActionStatus struct {
	ID     string    `json:"id"`
	Device string    `json:"device"`
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	// State: sent, not-connected, done, failed, timed-out.
	State    string    `json:"state"`
	Detail   string    `json:"detail,omitempty"`
	Finished time.Time `json:"finished,omitzero"`
}

// ActionList is a device's latest actions, newest first.
type ActionList struct {
	Actions []ActionStatus `json:"actions"`
}

func statusOf(a fleet.Action) ActionStatus {
	return ActionStatus{ID: a.ID, Device: a.Device, Kind: a.Kind, At: a.At, By: a.By, State: string(a.State), Detail: a.Detail, Finished: a.Finished}
}

func (s *Server) actionRoutes() {
	s.mux.HandleFunc("POST "+protocol.DeviceActionsPath+"/{id}", s.postActionResult)
	s.mux.HandleFunc("PUT "+protocol.DeviceActionsPath+"/{id}/screenshot", s.putScreenshot)
	s.mux.HandleFunc("POST /api/v1/devices/{device}/actions", s.adminOfDevice(s.askAction))
	s.mux.HandleFunc("GET /api/v1/devices/{device}/actions", s.adminOfDevice(s.listActions))
	s.mux.HandleFunc("GET /api/v1/devices/{device}/screenshot", s.adminOfDevice(s.getScreenshot))
}

// Actions keeps the remote actions asked of devices and their results.
func (s *Server) Actions() *fleet.Actions { return s.actions }

// DeviceToken finds a device's token by its id (a device's id is its
// token's id); ok is false for a token that is no device's.
func (s *Server) DeviceToken(id string) (tok store.Token, ok bool, err error) {
	all, err := s.auth.tokens.List()
	if err != nil {
		return store.Token{}, false, err
	}
	i := slices.IndexFunc(all, func(t store.Token) bool { return t.ID == id })
	if i < 0 || !(Principal{Token: all[i]}).IsDevice() {
		return store.Token{}, false, nil
	}
	return all[i], true, nil
}

// device authenticates a device's request about itself.
func (s *Server) device(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	p, ok := s.Authenticate(w, r)
	if !ok {
		return p, false
	}
	if !p.IsDevice() {
		forbid(w, "only a device answers its remote actions")
		return p, false
	}
	return p, true
}

func (s *Server) postActionResult(w http.ResponseWriter, r *http.Request) {
	p, ok := s.device(w, r)
	if !ok {
		return
	}
	var res protocol.ActionResult
	if err := decodeJSON(w, r, &res); err != nil {
		s.commandError(w, r, nil, "", err)
		return
	}
	if len(res.Detail) > maxDetail {
		// A device's word on its result, not its whole log.
		res.Detail = strings.ToValidUTF8(res.Detail[:maxDetail], "")
	}
	// An update order's answer (taken, or refused while another update
	// runs) is the rollout's to record.
	switch found, err := s.updates.Answered(p.Token.ID, r.PathValue("id"), res); {
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: err.Error()})
		return
	case found:
		s.log.Info("update order answered", "device", p.Token.ID, "action", r.PathValue("id"), "ok", res.OK)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if _, err := s.actions.Report(p.Token.ID, r.PathValue("id"), res); err != nil {
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Field: "id", Error: "id: " + err.Error()})
		return
	}
	s.log.Info("remote action answered", "device", p.Token.ID, "action", r.PathValue("id"), "ok", res.OK)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) putScreenshot(w http.ResponseWriter, r *http.Request) {
	p, ok := s.device(w, r)
	if !ok {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "image/png" {
		writeError(w, http.StatusUnsupportedMediaType, protocol.ErrorResponse{Error: "body: send the screenshot as Content-Type image/png"})
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fleet.MaxScreenshot))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, protocol.ErrorResponse{Error: "body: a screenshot of more than " + strconv.Itoa(fleet.MaxScreenshot) + " bytes"})
			return
		}
		s.commandError(w, r, nil, "", describeJSONError(err))
		return
	}
	switch err := s.actions.PutScreenshot(p.Token.ID, r.PathValue("id"), data); {
	case errors.Is(err, fleet.ErrNoAction):
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Field: "id", Error: "id: no screenshot was asked of this device with this id"})
	case err != nil:
		writeError(w, http.StatusBadRequest, protocol.ErrorResponse{Error: err.Error()})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// deviceHandler is an admin's API handler about one device.
type deviceHandler func(w http.ResponseWriter, r *http.Request, p Principal, device store.Token)

// adminOfDevice lets only an admin of the device's office through.
func (s *Server) adminOfDevice(h deviceHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.Authenticate(w, r)
		if !ok {
			return
		}
		if p.Role() != RoleAdmin {
			forbid(w, "only admins act on devices")
			return
		}
		tok, found, err := s.DeviceToken(r.PathValue("device"))
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: "reading the tokens: " + err.Error()})
			return
		}
		if !found || !p.SeesOffice(tok.Office) {
			// Another office's device is as unknown as none.
			writeError(w, http.StatusNotFound, protocol.ErrorResponse{Field: "device", Error: "device: no device " + strconv.Quote(r.PathValue("device")) + " in this token's offices"})
			return
		}
		h(w, r, p, tok)
	}
}

func (s *Server) askAction(w http.ResponseWriter, r *http.Request, p Principal, device store.Token) {
	var req ActionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, nil, "", err)
		return
	}
	act, err := s.actions.Ask(device.ID, req.Kind, p.Name())
	if err != nil {
		writeError(w, http.StatusBadRequest, protocol.ErrorResponse{Field: "kind", Error: err.Error()})
		return
	}
	s.log.Info("remote action asked", "device", device.ID, "kind", act.Kind, "action", act.ID, "state", act.State, "by", p.Name())
	writeJSON(w, http.StatusCreated, statusOf(act))
}

func (s *Server) listActions(w http.ResponseWriter, r *http.Request, p Principal, device store.Token) {
	out := ActionList{Actions: []ActionStatus{}}
	for _, a := range s.actions.Recent(device.ID) {
		out.Actions = append(out.Actions, statusOf(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getScreenshot(w http.ResponseWriter, r *http.Request, p Principal, device store.Token) {
	shot, ok := s.actions.LatestScreenshot(device.ID)
	if !ok {
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: "no screenshot of this device yet: ask for one (kind screenshot)"})
		return
	}
	ServeScreenshot(w, shot)
}

// ServeScreenshot answers with a device's screenshot.
func ServeScreenshot(w http.ResponseWriter, shot fleet.Screenshot) {
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "no-store")
	h.Set("Last-Modified", shot.At.UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(shot.PNG)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(shot.PNG)
}
