package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// The Forwarder's pause between tries doubles from firstRetry to lastRetry.
const (
	firstRetry = 50 * time.Millisecond
	lastRetry  = 500 * time.Millisecond
)

// maxAnswer bounds the writer's answer read back.
const maxAnswer = 1 << 20

// Forwarder sends an office's commands to the node that writes its log.
type Forwarder struct {
	Office string
	// Owner says where the writer is (pgstore.Office.OwnerURL): its base
	// URL, or an error when no node holds the lease.
	Owner func(ctx context.Context) (string, error)
	// Self is this node's own base URL (its lease's node_url).
	Self string
	// Secret authenticates the node to the writer; without one the node
	// forwards nothing (it is the only node).
	Secret []byte
	// Client sends the requests; nil is one of the Forwarder's own that
	// keeps enough connections to the writer open for a busy office.
	Client *http.Client

	once sync.Once
	own  *http.Client
}

// idleToWriter is how many idle connections to the writer are kept:
// net/http's default of 2 would open a new connection for most commands
// of a busy office.
const idleToWriter = 64

func (f *Forwarder) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	f.once.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = idleToWriter
		f.own = &http.Client{Transport: t}
	})
	return f.own
}

// Forward has the writer run cmd and returns its answer. It tries again,
// pausing 50 ms doubling to 500 ms, while no node writes the office, the
// node asked no longer does, or the command could not be sent, until ctx
// ends. A connection lost after the command was sent is not tried again:
// the writer may have run it, and running it twice (a second ticket)
// would be worse than an error.
func (f *Forwarder) Forward(ctx context.Context, actorName string, cmd queue.Command) actor.Result {
	data, err := queue.MarshalCommand(cmd)
	if err != nil {
		return actor.Result{Err: fmt.Errorf("forwarding to office %s: %w", f.Office, err)}
	}
	body, err := json.Marshal(forwardedCommand{Actor: actorName, Command: data})
	if err != nil {
		return actor.Result{Err: fmt.Errorf("forwarding to office %s: %w", f.Office, err)}
	}
	pause := firstRetry
	for {
		res, again, err := f.try(ctx, body)
		if !again {
			return res
		}
		timer := time.NewTimer(pause)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return actor.Result{Err: fmt.Errorf("forwarding a command to office %s's writer (%v): %w", f.Office, err, ctx.Err())}
		}
		pause = min(2*pause, lastRetry)
	}
}

// try sends the command once; again says it may be sent again, with err
// saying why it was not taken.
func (f *Forwarder) try(ctx context.Context, body []byte) (res actor.Result, again bool, err error) {
	owner, err := f.Owner(ctx)
	if err != nil {
		return actor.Result{}, true, fmt.Errorf("finding the writer: %w", err)
	}
	if len(f.Secret) == 0 || (f.Self != "" && strings.TrimSuffix(owner, "/") == strings.TrimSuffix(f.Self, "/")) {
		// No other node to send it to: the lease is this node's former
		// run's, or this run's about to lead.
		return actor.Result{Err: actor.ErrNotForwarded}, false, nil
	}
	target := strings.TrimSuffix(owner, "/") + strings.Replace(commandPath, "{office}", url.PathEscape(f.Office), 1)
	var sent bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) { sent = info.Err == nil }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return actor.Result{Err: fmt.Errorf("forwarding to office %s's writer at %s: %w", f.Office, owner, err)}, false, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+string(f.Secret))
	resp, err := f.client().Do(req)
	if err != nil {
		if sent && ctx.Err() == nil {
			return actor.Result{Err: fmt.Errorf("forwarding to office %s's writer at %s: lost after sending, so it may or may not have run: %w", f.Office, owner, err)}, false, nil
		}
		if ctx.Err() != nil {
			return actor.Result{Err: fmt.Errorf("forwarding to office %s's writer at %s: %w", f.Office, owner, ctx.Err())}, false, nil
		}
		return actor.Result{}, true, fmt.Errorf("sending to %s: %w", owner, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return actor.Result{Err: fmt.Errorf("reading the answer of office %s's writer at %s: %w", f.Office, owner, err)}, false, nil
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusMisdirectedRequest:
		return actor.Result{}, true, fmt.Errorf("%s no longer writes the office", owner)
	default:
		var p problem
		_ = json.Unmarshal(b, &p)
		return actor.Result{Err: fmt.Errorf("office %s's writer at %s answered %s: %s", f.Office, owner, resp.Status, p.Error)}, false, nil
	}
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		return actor.Result{Err: fmt.Errorf("reading the answer of office %s's writer at %s: %w", f.Office, owner, err)}, false, nil
	}
	res = actor.Result{Decision: a.Result.Decision, Ticket: a.Result.Ticket, Seq: a.Result.Seq}
	switch {
	case a.Result.Error != nil:
		res.Err = a.Result.Error
	case a.Result.Failure != "":
		res.Err = fmt.Errorf("office %s's writer at %s: %w", f.Office, owner, errors.New(a.Result.Failure))
	}
	return res, false, nil
}
