package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/keyedlimit"
	"github.com/numerek/numerek/localize"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/bundles"
	"github.com/numerek/numerek/server/clientaddr"
	"github.com/numerek/numerek/server/devices"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/links"
)

// Config is what the server is built from.
type Config struct {
	Offices []*actor.Actor
	Tokens  Tokens
	Clock   func() time.Time
	Logger  *slog.Logger
	Catalog *i18n.Catalog
	// Heartbeat of idle event streams; 0 means protocol.Heartbeat.
	Heartbeat time.Duration
	// Booking checks booked visits in by code (POST .../checkins); nil
	// leaves the route answering 404.
	Booking *booking.Desk
	// Links, when set, puts each ticket's e-ticket address in ticket
	// responses ("eticket_url"), for the kiosk's QR code.
	Links *links.Signer
	// Timeouts bound slow clients (HTTPServer); zero fields are the
	// defaults.
	Timeouts Timeouts
	// TrustedProxies are the reverse proxies whose Forwarded and
	// X-Forwarded-For headers name the client (see server/clientaddr);
	// none: every request's client is its connection's peer.
	TrustedProxies []netip.Prefix
	// Fleet knows which devices hold a stream open and carries control
	// events to them; nil: a hub of the server's own.
	Fleet *fleet.Hub
	// Metrics counts requests and streams and serves GET /metrics (see
	// server/metrics); nil: no metrics, and /metrics is not a route.
	Metrics Meter
	// Devices keeps the paired devices (devices.db, or the shared
	// database); nil: the server pairs no devices (the pairing routes
	// answer 404).
	Devices devices.Store
	// PublicURL is where admins reach the server, for the approve page's
	// address a pairing device shows; empty: the request's own host.
	PublicURL string
	// Health keeps the devices' health reports (POST
	// protocol.DeviceHealthPath); nil: one of the server's own, in
	// memory, seeing the hub's streams, whose Run nobody calls (no
	// alerts; the statuses are right all the same).
	Health *fleet.Health
	// Bundles keeps the system update bundles admins upload; nil: the
	// server keeps none (the bundle and rollout routes answer 404).
	Bundles *bundles.Store
	// Updates keeps the rollouts of bundles (in fleet.db); nil: one of
	// the server's own, in memory.
	Updates *fleet.Updates
	// LockerSecondFactor sends and checks the one-time codes some locker
	// documents need at pickup; nil: the second-factor routes answer 503.
	LockerSecondFactor LockerSecondFactor
}

// LockerSecondFactor sends a deposit's one-time code to the resident's
// phone and checks what they typed at the locker. The plain codes and
// the phone never reach the server's log.
type LockerSecondFactor interface {
	// Send makes and sends a new one-time code for deposit, returning the
	// phone it went to, masked ("+48 *** *** 789").
	Send(ctx context.Context, office, deposit string) (maskedTo string, err error)
	// Check reports whether code is the deposit's current one-time code.
	Check(ctx context.Context, office, deposit, code string) (bool, error)
}

// Server routes the API. Further pages (web/) mount on it with Handle.
type Server struct {
	mux       *routeMux
	offices   map[string]*actor.Actor
	order     []string
	auth      *authenticator
	clock     func() time.Time
	log       *slog.Logger
	cat       *i18n.Catalog
	heartbeat time.Duration
	booking   *booking.Desk
	links     *links.Signer
	timeouts  Timeouts
	clients   *clientaddr.Resolver
	fleet     *fleet.Hub
	metrics   Meter
	// metricsPage serves GET /metrics (the Meter's handler, made once).
	metricsPage http.Handler
	actions     *fleet.Actions
	// devices pairs and keeps devices; nil without Config.Devices.
	devices   *devices.Registry
	publicURL string
	// pairingAddr limits pairing requests per address, so nobody fills
	// the pending pairings.
	pairingAddr *keyedlimit.Limiter
	health      *fleet.Health
	bundles     *bundles.Store
	updates     *fleet.Updates
	// secondFactor is Config.LockerSecondFactor.
	secondFactor LockerSecondFactor
	// lockerReports remembers the locker reports applied, by office and
	// report id, so a retry is answered the same.
	lockerReports *lockerReportMemory
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	s := &Server{
		mux: &routeMux{ServeMux: http.NewServeMux()}, offices: map[string]*actor.Actor{},
		clock: cfg.Clock,
		log:   cfg.Logger, cat: cfg.Catalog, heartbeat: cfg.Heartbeat,
		booking: cfg.Booking, links: cfg.Links, timeouts: cfg.Timeouts.orDefaults(),
		clients: clientaddr.New(cfg.TrustedProxies), fleet: cfg.Fleet, health: cfg.Health,
		bundles: cfg.Bundles, updates: cfg.Updates,
		metrics: cfg.Metrics, secondFactor: cfg.LockerSecondFactor,
		lockerReports: newLockerReportMemory(),
	}
	s.auth = newAuthenticator(cfg.Tokens, cfg.Clock, s.tokenGone)
	if s.metrics != nil {
		s.metricsPage = s.metrics.Handler()
	}
	if s.fleet == nil {
		s.fleet = fleet.NewHub(cfg.Clock)
	}
	s.actions = fleet.NewActions(s.fleet, cfg.Clock)
	if s.updates == nil {
		// Without a store nothing can fail to load.
		s.updates, _ = fleet.NewUpdates(s.fleet, nil, cfg.Clock, cfg.Logger)
	}
	if s.health == nil {
		// Without a store nothing can fail to load.
		s.health, _ = fleet.NewHealth(fleet.HealthOptions{Clock: cfg.Clock, Presence: s.fleet.Presence, Log: cfg.Logger})
	}
	if s.heartbeat <= 0 {
		s.heartbeat = protocol.Heartbeat
	}
	s.publicURL = strings.TrimRight(cfg.PublicURL, "/")
	s.pairingAddr = newPairingLimit()
	if cfg.Devices != nil {
		s.devices = devices.New(devices.Config{
			Store: cfg.Devices, Tokens: cfg.Tokens, Fleet: s.fleet, Clock: cfg.Clock, Forget: s.ForgetToken,
			Office: func(id string) *queue.Office {
				if a := s.offices[id]; a != nil {
					return a.Office()
				}
				return nil
			},
		})
	}
	if s.cat == nil {
		s.cat = i18n.Messages()
	}
	for _, a := range cfg.Offices {
		s.offices[a.Office().ID] = a
		s.order = append(s.order, a.Office().ID)
	}
	sort.Strings(s.order)
	s.routes()
	return s
}

// Handle mounts another handler (web pages) on the server's mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Fleet is the server's hub of device streams.
func (s *Server) Fleet() *fleet.Hub { return s.fleet }

// Devices is the server's register of paired devices; nil when the
// server pairs none (Config.Devices).
func (s *Server) Devices() *devices.Registry { return s.devices }

// ForgetToken makes the server refuse the token with id from the next
// request on (a token revoked on the admin pages), without waiting for
// its store's stamp to change. Its device's health is forgotten too: a
// revoked device's silence is nobody's problem.
func (s *Server) ForgetToken(id string) {
	s.auth.forget(id)
	s.forgetHealth(id)
}

// TokensChanged reads the tokens again now if their store's stamp
// changed (pgstore.TokenStore.Watch calls it when another node changed
// them), rather than at the next request: a device revoked elsewhere
// loses its streams on this server at once.
func (s *Server) TokensChanged() { s.auth.refresh() }

// tokenGone ends what a token revoked elsewhere (on the command line, on
// another node) still holds on this server, as a revocation here does:
// its device's streams end with a revoked event and its health is
// forgotten.
func (s *Server) tokenGone(id string) {
	s.fleet.Revoke(id)
	s.forgetHealth(id)
}

func (s *Server) forgetHealth(id string) {
	if err := s.health.Forget(id); err != nil && s.log != nil {
		s.log.Error("forgetting a revoked device's health", "device", id, "err", err)
	}
}

// Health is the server's record of its devices' health.
func (s *Server) Health() *fleet.Health { return s.health }

// Office returns the actor of an office, or nil.
func (s *Server) Office(id string) *actor.Actor { return s.offices[id] }

// OfficeIDs lists the offices, sorted.
func (s *Server) OfficeIDs() []string { return s.order }

// ServeHTTP works out the request's client once (clientaddr.From) and
// logs each request without its body: bodies may hold personal data, and
// the log must not.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = s.clients.Attach(r)
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	if isAPI(r.URL.Path) && !cleanPath(r.URL.Path) {
		// The mux would redirect to the cleaned path with an HTML page,
		// and a client following it would send its request, a POST too,
		// to a route it did not name.
		writeError(rec, http.StatusBadRequest, protocol.ErrorResponse{Field: "path",
			Error: fmt.Sprintf("path: %q has an empty, \".\" or \"..\" segment; name the route itself", r.URL.Path)})
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	if s.metrics != nil {
		// The mux has set the pattern that took the request (none when
		// the path was refused before it): the label is the route, never
		// the path a client made up.
		s.metrics.Request(r.Pattern, rec.status)
	}
	if r.URL.Path != "/healthz" {
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "took", time.Since(start))
	}
}

// isAPI reports whether path is the device API's, where every answer is
// JSON.
func isAPI(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// cleanPath reports whether path has no empty, "." or ".." segment (a
// trailing slash aside).
func cleanPath(p string) bool {
	return p == "/" || path.Clean(p) == strings.TrimSuffix(p, "/")
}

// Allowed lists the methods the routes at r's path take, leaving out the
// catch-all routes (registered without a method), which take any: a
// request that only a catch-all took is answered 405 with these, or 404
// when there are none.
func (s *Server) Allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		alt := r.Clone(r.Context())
		alt.Method = m
		if _, pattern := s.mux.Handler(alt); strings.Contains(pattern, " ") {
			out = append(out, m)
		}
	}
	return out
}

// noRoute answers what no API route takes: 405 with the methods the path
// takes, else 404; JSON either way.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	if allowed := s.Allowed(r); len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, protocol.ErrorResponse{
			Error: fmt.Sprintf("%s %s: method not allowed; use %s", r.Method, r.URL.Path, strings.Join(allowed, " or "))})
		return
	}
	writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Flush lets event streams through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// officeHandler is an API handler for one office, after authentication.
type officeHandler func(w http.ResponseWriter, r *http.Request, p Principal, a *actor.Actor)

// office authenticates the request, finds the office named in the path and
// checks the token may see it.
func (s *Server) office(h officeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.Authenticate(w, r)
		if !ok {
			return
		}
		id := r.PathValue("office")
		a := s.offices[id]
		if a == nil {
			writeError(w, http.StatusNotFound, protocol.ErrorResponse{Error: "no office " + strconv.Quote(id), Field: "office"})
			return
		}
		if !p.SeesOffice(id) {
			forbid(w, "this token belongs to office "+strconv.Quote(p.Token.Office))
			return
		}
		h(w, r, p, a)
	}
}

// Authenticate checks the request's bearer token and writes the error
// response itself when it fails.
func (s *Server) Authenticate(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	p, ok := s.authenticateAny(w, r)
	if ok && p.Role() == RoleMetrics {
		forbid(w, "a metrics token reads GET /metrics only")
		return Principal{}, false
	}
	return p, ok
}

// authenticateAny is Authenticate for every role, the metrics role too.
func (s *Server) authenticateAny(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	p, err := s.auth.authenticate(r)
	if err != nil {
		var ae *errAuth
		status := http.StatusUnauthorized
		body := protocol.ErrorResponse{Error: err.Error()}
		if errors.As(err, &ae) {
			status, body.ServerTime = ae.status, ae.serverTime
		}
		switch status {
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="numerek"`)
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds(ae.retry)))
		}
		writeError(w, status, body)
		return Principal{}, false
	}
	return p, true
}

func forbid(w http.ResponseWriter, why string) {
	writeError(w, http.StatusForbidden, protocol.ErrorResponse{Error: "forbidden: " + why})
}

// commandError answers a command that failed, in the resident's language
// where the office refused them.
func (s *Server) commandError(w http.ResponseWriter, r *http.Request, a *actor.Actor, lang string, err error) {
	var qe *queue.Error
	var br *badRequest
	switch {
	case errors.As(err, &br):
		writeError(w, br.httpStatus(), protocol.ErrorResponse{Error: br.msg, Field: br.field})
	case errors.As(err, &qe):
		resp := protocol.ErrorResponse{Error: qe.Message, Code: qe.Code, Params: qe.Params}
		status := http.StatusConflict
		switch qe.Kind {
		case queue.Invalid:
			status = http.StatusBadRequest
			resp.Field = fieldOf(qe.Message)
		case queue.NotFound:
			status = http.StatusNotFound
		}
		if lang == "" {
			lang = i18n.Normalize(r.Header.Get("Accept-Language"))
		}
		if qe.Refusal != nil {
			resp.Reason = string(qe.Refusal.Reason)
			resp.Until = qe.Refusal.Until
		}
		if text, ok := localize.Error(s.cat, lang, qe, a.Office(), s.clock()); ok {
			resp.Message = text
		}
		writeError(w, status, resp)
	case errors.Is(err, actor.ErrStopped), errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: "the server is shutting down; retry"})
	default:
		s.log.Error("command failed", "office", a.Office().ID, "err", err)
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorResponse{Error: err.Error()})
	}
}

// fieldOf takes the field name queue puts before the first colon.
func fieldOf(msg string) string {
	for i, c := range msg {
		if c == ':' {
			return msg[:i]
		}
		if c == ' ' {
			break
		}
	}
	return ""
}
