package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/numerek/numerek/internal/keyedlimit"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/clientaddr"
	"github.com/numerek/numerek/server/devices"
)

// PairPagePath is the admins' page where a user code is approved; a
// pairing device shows its address (as a QR code too).
const PairPagePath = "/staff/devices/pair"

// PairingBurst is how many pairing requests an address may make at once;
// then one each 10 s. A device asks again only when its code expired (15
// minutes), so this is a room of devices switched on together behind one
// address, while one address cannot hold more than about a hundred
// pending codes.
const PairingBurst = 20

func newPairingLimit() *keyedlimit.Limiter {
	return keyedlimit.New(rate.Every(10*time.Second), PairingBurst, 10000)
}

// noPairing answers the pairing routes of a server that pairs no devices.
func noPairing(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: "this server pairs no devices (it has no devices file)"})
}

func (s *Server) postPairing(w http.ResponseWriter, r *http.Request) {
	if s.devices == nil {
		noPairing(w)
		return
	}
	if ok, retry := s.pairingAddr.Allow(clientaddr.From(r), time.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds(retry)))
		writeError(w, http.StatusTooManyRequests, protocol.ErrorResponse{
			Error: fmt.Sprintf("too many pairing requests from this address; try again in %d s", RetryAfterSeconds(retry))})
		return
	}
	req, err := ReadPairingRequest(w, r)
	if err == nil {
		var grant protocol.PairingGrant
		if grant, err = s.devices.Start(req, s.pairPageURL(r)); err == nil {
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusOK, grant)
			return
		}
	}
	var br *badRequest
	var re *devices.RequestError
	switch {
	case errors.As(err, &br):
		writeError(w, br.httpStatus(), protocol.ErrorResponse{Error: br.msg, Field: br.field})
	case errors.As(err, &re):
		writeError(w, http.StatusBadRequest, protocol.ErrorResponse{Error: re.Error(), Field: re.Field})
	default:
		if !errors.Is(err, devices.ErrBusy) {
			s.log.Error("starting a pairing", "err", err)
		}
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: err.Error()})
	}
}

// ReadPairingRequest reads and checks a pairing request's body: one JSON
// object of known fields, with a valid public key and short texts.
func ReadPairingRequest(w http.ResponseWriter, r *http.Request) (protocol.PairingRequest, error) {
	var req protocol.PairingRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return req, err
	}
	return req, devices.CheckRequest(req)
}

// pairPageURL is the approve page's address: under the public URL, else
// the host the device reached.
func (s *Server) pairPageURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL + PairPagePath
	}
	scheme := "http"
	if clientaddr.HTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + PairPagePath
}

func (s *Server) postPairingToken(w http.ResponseWriter, r *http.Request) {
	if s.devices == nil {
		noPairing(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	var poll protocol.PairingPoll
	if err := decodeJSON(w, r, &poll); err != nil {
		writeJSON(w, http.StatusBadRequest, protocol.PairingError{Error: "invalid_request", Description: err.Error()})
		return
	}
	creds, perr := s.devices.Poll(poll)
	if perr != nil {
		writeJSON(w, http.StatusBadRequest, perr)
		return
	}
	s.log.Info("device collected its credentials", "device", creds.DeviceID, "office", creds.Office, "role", creds.Role)
	writeJSON(w, http.StatusOK, creds)
}

func (s *Server) getDeviceConfig(w http.ResponseWriter, r *http.Request) {
	p, ok := s.Authenticate(w, r)
	if !ok {
		return
	}
	if s.devices == nil {
		noPairing(w)
		return
	}
	d, found, err := s.devices.Store().Device(p.Token.ID)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: err.Error()})
		return
	}
	if !found || !d.Active() {
		writeError(w, http.StatusNotFound, protocol.ErrorResponse{
			Error: "this token is not a paired device's: its settings are in its own file (pair the device to keep them on the server)"})
		return
	}
	writeJSON(w, http.StatusOK, d.Settings)
}
