package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/bundles"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/store"
)

// System updates' routes (protocol/update.go, docs/updates.md): admins
// upload RAUC bundles and roll them out; devices download them.

// BundleList is GET /api/v1/bundles.
type BundleList struct {
	Bundles []store.BundleRecord `json:"bundles"`
}

// RolloutRequest is POST /api/v1/rollouts: a bundle and the devices,
// exactly one of Device, Office and All.
type RolloutRequest struct {
	Bundle string `json:"bundle"`
	Device string `json:"device,omitempty"`
	Office string `json:"office,omitempty"`
	All    bool   `json:"all,omitempty"`
}

// RolloutStatus is a rollout as the API answers it.
type RolloutStatus struct {
	ID        string         `json:"id"`
	Bundle    string         `json:"bundle"`
	Version   string         `json:"version"`
	Target    string         `json:"target"`
	By        string         `json:"by"`
	At        string         `json:"at"`
	Cancelled bool           `json:"cancelled"`
	Counts    map[string]int `json:"counts"`
	Devices   []OrderStatus  `json:"devices"`
}

// OrderStatus is one device's order in a RolloutStatus.
type OrderStatus struct {
	Device  string `json:"device"`
	Office  string `json:"office"`
	State   string `json:"state"`
	Percent int    `json:"percent,omitempty"`
	Error   string `json:"error,omitempty"`
}

func rolloutStatus(r fleet.Rollout) RolloutStatus {
	out := RolloutStatus{ID: r.ID, Bundle: r.Bundle, Version: r.Version, Target: r.Target, By: r.By,
		At: r.At.UTC().Format("2006-01-02T15:04:05Z"), Cancelled: !r.Cancelled.IsZero(), Counts: r.Counts, Devices: []OrderStatus{}}
	for _, o := range r.Orders {
		out.Devices = append(out.Devices, OrderStatus{Device: o.Device, Office: o.Office, State: fleet.OrderState(o), Percent: o.Percent, Error: o.Error})
	}
	return out
}

func (s *Server) updateRoutes() {
	s.mux.HandleFunc("GET "+protocol.BundlesPath+"/{sha256}", s.Transfer(s.getBundleFile))
	s.mux.HandleFunc("POST /api/v1/bundles", s.Transfer(s.admin(s.postBundle)))
	s.mux.HandleFunc("GET /api/v1/bundles", s.admin(s.listBundles))
	s.mux.HandleFunc("POST /api/v1/rollouts", s.admin(s.postRollout))
	s.mux.HandleFunc("GET /api/v1/rollouts/{id}", s.admin(s.getRollout))
	s.mux.HandleFunc("POST /api/v1/rollouts/{id}/cancel", s.admin(s.cancelRollout))
}

// Bundles is the server's store of update bundles; nil when it keeps none
// (Config.Bundles).
func (s *Server) Bundles() *bundles.Store { return s.bundles }

// Updates keeps the rollouts and their orders.
func (s *Server) Updates() *fleet.Updates { return s.updates }

// admin lets only admins through to h.
func (s *Server) admin(h func(w http.ResponseWriter, r *http.Request, p Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.Authenticate(w, r)
		if !ok {
			return
		}
		if p.Role() != RoleAdmin {
			forbid(w, "only admins manage system updates")
			return
		}
		if s.bundles == nil {
			writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: "this server keeps no update bundles"})
			return
		}
		h(w, r, p)
	}
}

// SaveBundle keeps an uploaded bundle, streamed from body; the error is
// one to show the admin (what is wrong with the file).
func (s *Server) SaveBundle(body io.Reader, by string) (store.BundleRecord, error) {
	rec, err := s.bundles.Save(body, by)
	if err != nil {
		s.log.Warn("a bundle upload was refused", "by", by, "err", err)
		return rec, err
	}
	s.log.Info("update bundle uploaded", "sha256", rec.SHA256, "version", rec.Version, "size", rec.Size, "by", by)
	return rec, nil
}

func (s *Server) postBundle(w http.ResponseWriter, r *http.Request, p Principal) {
	// The body is the bundle itself, streamed to disk as it comes.
	body := http.MaxBytesReader(w, r.Body, s.bundles.MaxSize()+1)
	rec, err := s.SaveBundle(body, p.Name())
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, bundles.ErrTooBig) || errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, protocol.ErrorResponse{Field: "body", Error: fmt.Sprintf("body: a bundle of more than %d MB", s.bundles.MaxSize()>>20)})
	case errors.Is(err, bundles.ErrNotBundle):
		writeError(w, http.StatusUnprocessableEntity, protocol.ErrorResponse{Field: "body", Error: "body: " + err.Error()})
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: err.Error()})
	default:
		writeJSON(w, http.StatusCreated, rec)
	}
}

func (s *Server) listBundles(w http.ResponseWriter, r *http.Request, p Principal) {
	writeJSON(w, http.StatusOK, BundleList{Bundles: s.bundles.List()})
}

// UpdateTargets lists the devices a rollout reaches: one device, an
// office's, or all (of the offices sees accepts), and the target as the
// rollout records it. The error says what is wrong with the choice.
func (s *Server) UpdateTargets(sees func(office string) bool, device, office string, all bool) ([]fleet.Target, string, error) {
	chosen := 0
	for _, b := range []bool{device != "", office != "", all} {
		if b {
			chosen++
		}
	}
	if chosen != 1 {
		return nil, "", &badRequest{field: "device", msg: "choose one device, one office or all devices"}
	}
	toks, err := s.auth.tokens.List()
	if err != nil {
		return nil, "", fmt.Errorf("reading the tokens: %w", err)
	}
	var out []fleet.Target
	for _, t := range toks {
		if !(Principal{Token: t}).IsDevice() || !sees(t.Office) {
			continue
		}
		if (device != "" && t.ID == device) || (office != "" && t.Office == office) || all {
			out = append(out, fleet.Target{ID: t.ID, Office: t.Office})
		}
	}
	target := "all"
	switch {
	case device != "":
		target = "device:" + device
		if len(out) == 0 {
			return nil, "", &badRequest{field: "device", msg: "device: no device " + strconv.Quote(device) + " in your offices"}
		}
	case office != "":
		target = "office:" + office
		if len(out) == 0 {
			return nil, "", &badRequest{field: "office", msg: "office: no devices in office " + strconv.Quote(office) + " that you may update"}
		}
	case len(out) == 0:
		return nil, "", &badRequest{field: "all", msg: "all: there are no devices to update"}
	}
	slices.SortFunc(out, func(a, b fleet.Target) int { return strings.Compare(a.ID, b.ID) })
	return out, target, nil
}

func (s *Server) postRollout(w http.ResponseWriter, r *http.Request, p Principal) {
	var req RolloutRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.commandError(w, r, nil, "", err)
		return
	}
	b, ok := s.bundles.Get(req.Bundle)
	if !ok {
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Field: "bundle", Error: "bundle: no bundle with SHA-256 " + strconv.Quote(req.Bundle) + " was uploaded"})
		return
	}
	targets, target, err := s.UpdateTargets(p.SeesOffice, req.Device, req.Office, req.All)
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	ro, err := s.updates.Start(b, targets, target, p.Name())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusCreated, rolloutStatus(ro))
}

// rolloutOf finds the rollout of the path for p, or answers 404 (a rollout
// with none of p's devices is as unknown as none).
func (s *Server) rolloutOf(w http.ResponseWriter, r *http.Request, p Principal) (fleet.Rollout, bool) {
	ro, err := s.updates.Rollout(r.PathValue("id"))
	if err == nil && slices.ContainsFunc(ro.Orders, func(o store.OrderRecord) bool { return p.SeesOffice(o.Office) }) {
		return ro, true
	}
	writeError(w, http.StatusNotFound, protocol.ErrorResponse{Field: "id", Error: "id: no rollout " + strconv.Quote(r.PathValue("id")) + " of your devices"})
	return ro, false
}

func (s *Server) getRollout(w http.ResponseWriter, r *http.Request, p Principal) {
	if ro, ok := s.rolloutOf(w, r, p); ok {
		writeJSON(w, http.StatusOK, rolloutStatus(ro))
	}
}

func (s *Server) cancelRollout(w http.ResponseWriter, r *http.Request, p Principal) {
	if _, ok := s.rolloutOf(w, r, p); !ok {
		return
	}
	ro, err := s.updates.Cancel(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, rolloutStatus(ro))
}

// getBundleFile serves a bundle to a paired device, with Range: a cut
// download resumes where it stopped.
func (s *Server) getBundleFile(w http.ResponseWriter, r *http.Request) {
	p, ok := s.Authenticate(w, r)
	if !ok {
		return
	}
	if !p.IsDevice() {
		forbid(w, "only devices download bundles")
		return
	}
	h := r.PathValue("sha256")
	if s.bundles == nil || !bundles.ValidHash(h) {
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Field: "sha256", Error: "sha256: no bundle " + strconv.Quote(h)})
		return
	}
	rec, found := s.bundles.Get(h)
	f, err := os.Open(s.bundles.Path(h))
	if !found || err != nil {
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{Field: "sha256", Error: "sha256: no bundle " + strconv.Quote(h)})
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+h+`"`)
	http.ServeContent(w, r, rec.Version+".raucb", rec.At, f)
}
