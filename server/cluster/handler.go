package cluster

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// maxCommandBody bounds a forwarded command: the largest (an Issue with
// its note and holders) is far below it.
const maxCommandBody = 64 << 10

// Handler serves the commands other nodes forward to the offices this
// node leads: POST /internal/v1/offices/{office}/commands with
// Authorization: Bearer <secret>. It answers 421 Misdirected Request when
// this node does not write the office's log, so the sender asks again
// where the lease is. An empty secret refuses every request.
func Handler(actors []*actor.Actor, secret []byte, logger *slog.Logger) http.Handler {
	byOffice := make(map[string]*actor.Actor, len(actors))
	for _, a := range actors {
		byOffice[a.Office().ID] = a
	}
	h := &handler{actors: byOffice, secret: secret, logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+commandPath, h.command)
	return mux
}

type handler struct {
	actors map[string]*actor.Actor
	secret []byte
	logger *slog.Logger
}

func (h *handler) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && len(h.secret) > 0 && subtle.ConstantTimeCompare([]byte(token), h.secret) == 1
}

func (h *handler) command(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		h.logger.Warn("a forwarded command without the cluster secret", "from", r.RemoteAddr)
		writeJSON(w, http.StatusUnauthorized, problem{Error: "the cluster secret is missing or wrong"})
		return
	}
	office := r.PathValue("office")
	a, ok := h.actors[office]
	if !ok {
		writeJSON(w, http.StatusNotFound, problem{Error: "this node serves no office " + office})
		return
	}
	if !a.Leading() {
		writeJSON(w, http.StatusMisdirectedRequest, problem{Error: "this node does not write office " + office})
		return
	}
	var req forwardedCommand
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCommandBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, problem{Error: "reading the forwarded command: " + err.Error()})
		return
	}
	cmd, err := queue.UnmarshalCommand(req.Command)
	if err != nil {
		h.logger.Warn("a forwarded command that cannot be read", "from", r.RemoteAddr, "err", err)
		writeJSON(w, http.StatusBadRequest, problem{Error: err.Error()})
		return
	}
	res := a.DoIfLeading(r.Context(), req.Actor, cmd)
	if errors.Is(res.Err, actor.ErrNotLeading) {
		writeJSON(w, http.StatusMisdirectedRequest, problem{Error: "this node no longer writes office " + office})
		return
	}
	out := wireResult{Decision: res.Decision, Ticket: res.Ticket, Seq: res.Seq}
	if qe, ok := errors.AsType[*queue.Error](res.Err); ok {
		out.Error = qe
	} else if res.Err != nil {
		out.Failure = res.Err.Error()
	}
	writeJSON(w, http.StatusOK, answer{Result: out})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
