package protocol

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/numerek/numerek/queue"
)

// Client is a device's side of the API v1: one server, one office, one
// token. Every call takes a context that bounds it; the client itself sets
// no overall timeout, so the event stream can stay open.
type Client struct {
	root   string // .../api/v1
	base   string // .../api/v1/offices/{office}
	office string
	token  string
	server string // the server's root URL
	http   *http.Client
	clock  ServerClock
	key    ed25519.PrivateKey
	// refused is told of every 401 answer (ClientOptions.OnUnauthorized).
	refused func(*APIError)
}

// maxAnswer bounds one answer, so a broken or hostile server cannot make a
// device buffer without end.
const maxAnswer = 8 << 20

// ServerClock learns the server's time from the times in its answers
// (device/replica's Clock is one).
type ServerClock interface {
	// ObserveWithin: the server's clock read at, at most slack before it
	// answered a request sent at sent and received at recv.
	ObserveWithin(at, recv, sent time.Time, slack time.Duration)
}

// ClientOptions tune a Client; the zero value is sensible.
type ClientOptions struct {
	// HTTP is the client to send requests with; nil makes one with short
	// connect timeouts suited to a LAN.
	HTTP *http.Client
	// Clock, when set, learns the server's time from the times in its
	// answers (tickets' issue times, leases' grant times, views).
	Clock ServerClock
	// Key, when set, is a paired device's key: every request, the event
	// stream included, carries ProofHeader signed with it, at the
	// server's time as Clock knows it (when Clock has a Now method).
	Key ed25519.PrivateKey
	// OnUnauthorized, when set, is told of every answer 401 (the token is
	// unknown or revoked, or the key's proof was refused), on the
	// caller's goroutine: it must not block.
	OnUnauthorized func(*APIError)
}

// NewClient returns a client of office on the server at serverURL
// ("http://10.0.0.2:8080") with a device token.
func NewClient(serverURL, office, token string, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(serverURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want http://host:port or https://host", serverURL)
	}
	if office == "" {
		return nil, errors.New("office: missing")
	}
	if token == "" {
		return nil, errors.New("token: missing")
	}
	hc := opts.HTTP
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 15 * time.Second}).DialContext,
			TLSHandshakeTimeout: 5 * time.Second,
			// A backstop for a request whose context sets no deadline: a
			// server that took the request and went silent (a cut without
			// a FIN) would hold it for ever. Streams answer at once.
			ResponseHeaderTimeout: 10 * time.Second,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		}}
	}
	return &Client{
		server: u.String(),
		root:   u.String() + "/api/v1",
		base:   u.String() + "/api/v1/offices/" + url.PathEscape(office),
		office: office, token: token, http: hc, clock: opts.Clock,
		key: opts.Key, refused: opts.OnUnauthorized,
	}, nil
}

// Office is the office the client speaks for.
func (c *Client) Office() string { return c.office }

// APIError is an answer of the server other than success.
type APIError struct {
	// Op says what was asked ("issuing a ticket").
	Op     string
	Status int
	Body   ErrorResponse
}

func (e *APIError) Error() string {
	msg := e.Body.Error
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s: server answered %d: %s", e.Op, e.Status, msg)
}

// Unwrap gives the answer as a *queue.Error when it is one of the
// office's refusals or the caller's mistakes, so screens can explain it
// (errors.As(err, &qe)).
func (e *APIError) Unwrap() error {
	qe := &queue.Error{Message: e.Body.Error}
	switch e.Status {
	case http.StatusBadRequest, http.StatusTooManyRequests:
		qe.Kind = queue.Invalid
	case http.StatusNotFound:
		qe.Kind = queue.NotFound
	case http.StatusConflict:
		qe.Kind = queue.Conflict
		if e.Body.Reason != "" {
			qe.Kind = queue.Refused
			qe.Refusal = &queue.Refusal{Reason: queue.Reason(e.Body.Reason), Until: e.Body.Until}
		}
	default:
		return nil
	}
	return qe
}

// Unreachable reports whether err means the server could not be asked or
// did not answer in time (as opposed to answering no): the network, a
// timeout, or a server that is shutting down or cannot store. A kiosk then
// issues from its lease.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errBadAnswer)
}

// errBadAnswer marks an answer that is not the API's (a captive portal, a
// proxy's error page).
var errBadAnswer = errors.New("the answer is not the queue server's")

// do sends a request about the client's office (path is under the
// office's URL) and decodes a JSON answer into out (when not nil). It
// returns the status of a successful answer.
func (c *Client) do(ctx context.Context, op, method, path string, body, out any) (int, error) {
	return c.send(ctx, op, method, c.base+path, body, out)
}

// WhoAmI asks the server what the client's token is, and so the name the
// server knows this device by.
func (c *Client) WhoAmI(ctx context.Context) (WhoAmI, error) {
	var w WhoAmI
	_, err := c.send(ctx, "asking what this device's token is", "GET", c.root+"/whoami", nil, &w)
	return w, err
}

// DeviceSettings reads this device's configuration as the server keeps it
// (a paired device's token).
func (c *Client) DeviceSettings(ctx context.Context) (DeviceSettings, error) {
	var s DeviceSettings
	_, err := c.send(ctx, "reading this device's settings", "GET", c.server+DeviceConfigPath, nil, &s)
	return s, err
}

// authorize puts the token on req and, for a paired device, the proof of
// its key over the request's method and path (without the query).
func (c *Client) authorize(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+c.token)
	if c.key == nil {
		return
	}
	now := time.Now()
	if clock, ok := c.clock.(interface{ Now() time.Time }); ok {
		now = clock.Now()
	}
	req.Header.Set(ProofHeader, SignProof(c.key, req.Method, req.URL.Path, now))
}

// tellRefused hands a 401 answer to OnUnauthorized.
func (c *Client) tellRefused(ae *APIError) {
	if c.refused != nil && ae.Status == http.StatusUnauthorized {
		c.refused(ae)
	}
}

// TokenRevoked reports whether err is the server's answer that the
// token is unknown or revoked (not a refused proof of the key, which a
// wrong clock can cause).
func TokenRevoked(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		return false
	}
	msg := strings.ToLower(ae.Body.Error)
	if strings.Contains(msg, strings.ToLower(ProofHeader)) {
		return false
	}
	return strings.Contains(msg, "revoked") || strings.Contains(msg, "unknown") && strings.Contains(msg, "token")
}

// send is do with a whole URL.
func (c *Client) send(ctx context.Context, op, method, target string, body, out any) (int, error) {
	if body == nil {
		return c.sendBody(ctx, op, method, target, "", nil, out)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return 0, fmt.Errorf("%s: encoding the request: %w", op, err)
	}
	return c.sendBody(ctx, op, method, target, "application/json", data, out)
}

// sendBody is send with a body already encoded as contentType (none when
// contentType is "").
func (c *Client) sendBody(ctx context.Context, op, method, target, contentType string, body []byte, out any) (int, error) {
	var rd io.Reader
	if contentType != "" {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	status, data, err := c.exchange(req, op, contentType)
	if ae, ok := err.(*APIError); ok && c.learnedTime(ae) {
		// The proof was signed at the machine's time, far from the
		// server's (a device just started, its clock not yet set): once
		// more at the server's time, which the refusal told.
		if rd != nil {
			rd = bytes.NewReader(body)
		}
		if req, err = http.NewRequestWithContext(ctx, method, target, rd); err != nil {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		status, data, err = c.exchange(req, op, contentType)
	}
	if err != nil {
		if ae, ok := err.(*APIError); ok {
			c.tellRefused(ae)
		}
		return 0, err
	}
	if out != nil && status != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return 0, fmt.Errorf("%s: reading the answer: %v: %w", op, err, errBadAnswer)
		}
	}
	return status, nil
}

// exchange sends req (its body contentType, none when ""), signed, and
// reads its answer: the status and body of a success, or an *APIError.
func (c *Client) exchange(req *http.Request, op, contentType string) (int, []byte, error) {
	c.authorize(req)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	sent := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: reading the answer: %w", op, err)
	}
	if resp.StatusCode >= 300 {
		ae := &APIError{Op: op, Status: resp.StatusCode}
		if json.Unmarshal(data, &ae.Body) != nil && resp.StatusCode < 500 {
			return 0, nil, fmt.Errorf("%s: %d %s: %w", op, resp.StatusCode, http.StatusText(resp.StatusCode), errBadAnswer)
		}
		if !ae.Body.ServerTime.IsZero() && resp.StatusCode == http.StatusUnauthorized {
			c.observe(ae.Body.ServerTime, sent, 0)
		}
		return 0, nil, ae
	}
	return resp.StatusCode, data, nil
}

// learnedTime reports whether ae refused the key's proof and told the
// server's time, so that the request, signed again, may pass.
func (c *Client) learnedTime(ae *APIError) bool {
	return c.key != nil && c.clock != nil && ae.Status == http.StatusUnauthorized && !ae.Body.ServerTime.IsZero()
}

// ReportAction tells the server how the remote action id went.
func (c *Client) ReportAction(ctx context.Context, id string, res ActionResult) error {
	_, err := c.send(ctx, "reporting remote action "+id, "POST", c.root+strings.TrimPrefix(DeviceActionsPath, "/api/v1")+"/"+url.PathEscape(id), res, nil)
	return err
}

// PutScreenshot sends the PNG the screenshot action id asked for.
func (c *Client) PutScreenshot(ctx context.Context, id string, png []byte) error {
	_, err := c.sendBody(ctx, "sending the screenshot of action "+id, "PUT",
		c.root+strings.TrimPrefix(DeviceActionsPath, "/api/v1")+"/"+url.PathEscape(id)+"/screenshot", "image/png", png, nil)
	return err
}

// observe tells the clock that the server's clock read at, at most slack
// before it answered a request sent at sent.
func (c *Client) observe(at, sent time.Time, slack time.Duration) {
	if c.clock != nil {
		c.clock.ObserveWithin(at, time.Now(), sent, slack)
	}
}

// viewSlack is how old a view the server answers with may be: it reuses
// one while nothing changes (20 s by default).
const viewSlack = time.Minute

// Config returns the office's configuration and its JSON as sent.
func (c *Client) Config(ctx context.Context) (*queue.Office, json.RawMessage, error) {
	var raw json.RawMessage
	if _, err := c.do(ctx, "reading the office configuration", "GET", "/config", nil, &raw); err != nil {
		return nil, nil, err
	}
	var o queue.Office
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, nil, fmt.Errorf("reading the office configuration: %w", err)
	}
	if o.ID != c.office {
		return nil, nil, fmt.Errorf("reading the office configuration: the server sent office %q, not %q", o.ID, c.office)
	}
	return &o, raw, nil
}

// View returns the office as the server sees it now.
func (c *Client) View(ctx context.Context) (queue.View, error) {
	var v queue.View
	sent := time.Now()
	_, err := c.do(ctx, "reading the office's state", "GET", "/state", nil, &v)
	if err == nil {
		c.observe(v.At, sent, viewSlack)
	}
	return v, err
}

// Issue asks for a ticket. created is false when the request id had
// already given a ticket (the same one comes back).
func (c *Client) Issue(ctx context.Context, req IssueRequest) (resp TicketResponse, created bool, err error) {
	sent := time.Now()
	op := "issuing a " + req.Service + " ticket"
	status, err := c.do(ctx, op, "POST", "/tickets", req, &resp)
	if err != nil {
		return resp, false, err
	}
	if resp.Ticket.ID == "" {
		// Nothing to print is never a success: the kiosk would hand the
		// resident an empty ticket, or none while saying it printed.
		return resp, false, fmt.Errorf("%s: the server answered %d without a ticket: %w", op, status, errBadAnswer)
	}
	if status == http.StatusCreated {
		c.observe(resp.Ticket.IssuedAt, sent, 0)
	}
	return resp, status == http.StatusCreated, nil
}

// Ticket reads one of today's tickets, with its e-ticket address.
func (c *Client) Ticket(ctx context.Context, id string) (TicketResponse, error) {
	var resp TicketResponse
	_, err := c.do(ctx, "reading ticket "+id, "GET", "/tickets/"+url.PathEscape(id), nil, &resp)
	return resp, err
}

// CheckIn confirms a booked visit by its code and returns its ticket.
func (c *Client) CheckIn(ctx context.Context, req CheckInRequest) (TicketResponse, error) {
	var resp TicketResponse
	const op = "confirming a booked visit"
	status, err := c.do(ctx, op, "POST", "/checkins", req, &resp)
	if err == nil && resp.Ticket.ID == "" {
		return resp, fmt.Errorf("%s: the server answered %d without a ticket: %w", op, status, errBadAnswer)
	}
	return resp, err
}

// Lease asks for count numbers of service to issue while offline.
func (c *Client) Lease(ctx context.Context, service string, count int) (queue.Lease, error) {
	var resp LeaseResponse
	sent := time.Now()
	_, err := c.do(ctx, "asking for a lease of "+service+" numbers", "POST", "/leases", LeaseRequest{Service: service, Count: count}, &resp)
	if err == nil {
		c.observe(resp.Lease.GrantedAt, sent, 0)
	}
	return resp.Lease, err
}

// HandInResult is what the server made of a ticket issued offline.
type HandInResult struct {
	// Ticket is the ticket in today's queue; empty when Expired.
	Ticket TicketResponse
	// Expired: the ticket's day has ended; the server kept it for
	// statistics only.
	Expired bool
	// Created is false when the server already had it (a retry).
	Created bool
}

// HandIn gives the server a ticket issued from a lease. It is idempotent
// by request id: handing in the same ticket again changes nothing.
func (c *Client) HandIn(ctx context.Context, req LeasedTicketRequest) (HandInResult, error) {
	var raw json.RawMessage
	op := "handing in ticket " + strconv.Itoa(req.Number) + " of " + req.Service
	status, err := c.do(ctx, op, "POST", "/leased-tickets", req, &raw)
	if err != nil {
		return HandInResult{}, err
	}
	if status == http.StatusAccepted {
		return HandInResult{Expired: true, Created: true}, nil
	}
	var res HandInResult
	if err := json.Unmarshal(raw, &res.Ticket); err != nil {
		return HandInResult{}, fmt.Errorf("%s: reading the answer: %v: %w", op, err, errBadAnswer)
	}
	res.Created = status == http.StatusCreated
	return res, nil
}

// Withdraw tells the server that the kiosk printed nothing for request id
// (its answer never came in time, and no leased ticket was printed for it
// either), so the ticket the server may have issued for it is withdrawn.
// It returns that ticket as it stands after (cancelled when withdrawn),
// or nil when the request gave none.
func (c *Client) Withdraw(ctx context.Context, requestID string) (*queue.TicketView, error) {
	var resp TicketResponse
	status, err := c.do(ctx, "withdrawing request "+requestID, "POST", "/withdrawals", WithdrawRequest{RequestID: requestID}, &resp)
	if err != nil || status == http.StatusNoContent {
		return nil, err
	}
	return &resp.Ticket, nil
}

// ReportFault tells staff about the device's trouble ("paper-out"); an
// empty fault says it is over.
func (c *Client) ReportFault(ctx context.Context, fault, detail string) error {
	_, err := c.do(ctx, "reporting a fault", "POST", "/faults", FaultRequest{Fault: fault, Detail: detail}, nil)
	return err
}

// CounterAction does action ("next", "recall", "finish", ...; queue's
// table of counter actions names them) at counter n. body is the action's
// parameters (a queue.CounterParams, or a RateRequest for "rate"), or nil.
// The ticket acted on comes back, or nil when there was none (nobody
// waits, or the action set the counter's status).
func (c *Client) CounterAction(ctx context.Context, n int, action string, body any) (*queue.TicketView, error) {
	var resp TicketResponse
	op := fmt.Sprintf("%s at counter %d", action, n)
	status, err := c.do(ctx, op, "POST", "/counters/"+strconv.Itoa(n)+"/"+url.PathEscape(action), orEmpty(body), &resp)
	if err != nil || status == http.StatusNoContent || resp.Ticket.ID == "" {
		return nil, err
	}
	return &resp.Ticket, nil
}

// orEmpty sends an empty JSON object for an action without a body, so the
// request has one whatever proxies expect.
func orEmpty(body any) any {
	if body == nil {
		return struct{}{}
	}
	return body
}

// Events opens the office's event stream after seq (0: from a snapshot).
// control asks for the device's control events on it too
// (ControlHeader).
func (c *Client) Events(ctx context.Context, after uint64, control bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/events", nil)
	if err != nil {
		return nil, err
	}
	c.authorize(req)
	req.Header.Set("Accept", "text/event-stream")
	if control {
		req.Header.Set(ControlHeader, "1")
	}
	if after > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(after, 10))
	}
	sent := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("opening the event stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		ae := &APIError{Op: "opening the event stream", Status: resp.StatusCode}
		_ = json.Unmarshal(data, &ae.Body)
		if c.learnedTime(ae) {
			// The next try signs at the server's time.
			c.observe(ae.Body.ServerTime, sent, 0)
		}
		c.tellRefused(ae)
		return nil, ae
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		return nil, fmt.Errorf("opening the event stream: content type %q: %w", ct, errBadAnswer)
	}
	return resp, nil
}

// DownloadBundle asks for the update bundle named sha256 (BundlesPath)
// from offset on. partial is true when the answer starts at offset (206);
// a 200 is the whole file from its start. The caller closes body.
func (c *Client) DownloadBundle(ctx context.Context, sha256 string, offset int64) (body io.ReadCloser, partial bool, err error) {
	op := "downloading bundle " + sha256
	for try := 0; try < 2; try++ {
		req, err := http.NewRequestWithContext(ctx, "GET", c.server+BundlesPath+"/"+url.PathEscape(sha256), nil)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", op, err)
		}
		c.authorize(req)
		if offset > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		}
		sent := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", op, err)
		}
		switch resp.StatusCode {
		case http.StatusOK:
			return resp.Body, false, nil
		case http.StatusPartialContent:
			return resp.Body, true, nil
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		ae := &APIError{Op: op, Status: resp.StatusCode}
		_ = json.Unmarshal(data, &ae.Body)
		if try == 0 && c.learnedTime(ae) {
			// Signed again at the server's time, which the refusal told.
			c.observe(ae.Body.ServerTime, sent, 0)
			continue
		}
		c.tellRefused(ae)
		return nil, false, ae
	}
	return nil, false, fmt.Errorf("%s: refused twice", op)
}
