package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/store"
)

// soleWriter runs offices with no cluster, each its only writer, behind
// a Handler on a real HTTP server; it returns the actors by office id.
func soleWriter(t *testing.T, secret []byte, offices ...*queue.Office) (*httptest.Server, map[string]*actor.Actor) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	actors := map[string]*actor.Actor{}
	var list []*actor.Actor
	for _, o := range offices {
		log, err := store.OpenOfficeLog(filepath.Join(t.TempDir(), o.ID+".db"), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		a, err := actor.New(o, log, func() time.Time { return now }, logger, actor.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done; log.Close() })
		actors[o.ID] = a
		list = append(list, a)
	}
	srv := httptest.NewServer(Handler(list, secret, logger))
	t.Cleanup(srv.Close)
	return srv, actors
}

func at(url string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return url, nil }
}

func TestHandlerServesOnlyTheCluster(t *testing.T) {
	secret := []byte("s3cret-of-the-cluster")
	srv, _ := soleWriter(t, secret, testOffice())
	good := `{"actor":"counter:1","command":{"type":"SetCounter","data":{"Counter":1,"Status":"open"}}}`
	for _, tc := range []struct {
		name, path, auth, body string
		status                 int
		says                   string
	}{
		{"no secret", "urzad", "", good, http.StatusUnauthorized, "secret"},
		{"wrong secret", "urzad", "Bearer s3cret-of-the-clusteR", good, http.StatusUnauthorized, "secret"},
		{"secret as basic", "urzad", "Basic s3cret-of-the-cluster", good, http.StatusUnauthorized, "secret"},
		{"another office", "elsewhere", "Bearer " + string(secret), good, http.StatusNotFound, "elsewhere"},
		{"not json", "urzad", "Bearer " + string(secret), `{"actor":`, http.StatusBadRequest, "forwarded command"},
		{"unknown field", "urzad", "Bearer " + string(secret), `{"actor":"a","cmd":{}}`, http.StatusBadRequest, "unknown field"},
		{"unknown command", "urzad", "Bearer " + string(secret), `{"actor":"a","command":{"type":"Teleport","data":{}}}`, http.StatusBadRequest, "Teleport"},
		{"a command", "urzad", "Bearer " + string(secret), good, http.StatusOK, `"seq":`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/internal/v1/offices/"+tc.path+"/commands", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.says) {
				t.Errorf("answered %d %s, want %d saying %s", resp.StatusCode, b, tc.status, tc.says)
			}
		})
	}
}

func TestHandlerWithNoSecretRefusesEveryone(t *testing.T) {
	srv, _ := soleWriter(t, nil, testOffice())
	good := `{"actor":"counter:1","command":{"type":"SetCounter","data":{"Counter":1,"Status":"open"}}}`
	for _, auth := range []string{"", "Bearer ", "Bearer anything"} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/internal/v1/offices/urzad/commands", strings.NewReader(good))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a node configured with no secret answered %q with %d, want 401", auth, resp.StatusCode)
		}
	}
}

// A node sends nothing when it has no secret (it is the only node), or
// when the lease names its own address (its run before a restart): the
// actor runs the command itself once it leads.
func TestForwarderSendsNothingToItself(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { asked.Add(1) }))
	t.Cleanup(srv.Close)
	for name, fwd := range map[string]*Forwarder{
		"no secret":       {Office: "urzad", Owner: at(srv.URL)},
		"its own address": {Office: "urzad", Owner: at(srv.URL + "/"), Self: srv.URL, Secret: []byte("s3cret-of-the-cluster")},
	} {
		if r := fwd.Forward(context.Background(), "test", issue); !errors.Is(r.Err, actor.ErrNotForwarded) {
			t.Errorf("%s: came to %+v, want actor.ErrNotForwarded", name, r)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the node was sent %d requests", n)
	}
}

func TestForwardedAnswersAreTheWritersOwn(t *testing.T) {
	secret := []byte("s3cret-of-the-cluster")
	closed := testOffice()
	closed.ID = "zamkniety"
	for d := range closed.Hours {
		closed.Hours[d] = nil
	}
	srv, actors := soleWriter(t, secret, testOffice(), closed)
	ctx := context.Background()
	fwd := &Forwarder{Office: "urzad", Owner: at(srv.URL), Secret: secret}

	r := fwd.Forward(ctx, "kiosk:hall", issue)
	if r.Err != nil || r.Ticket == nil || r.Decision.Ticket != r.Ticket.ID || len(r.Decision.Events) == 0 || r.Seq != actors["urzad"].Seq() {
		t.Fatalf("issuing came to %+v (seq %d at the writer)", r, actors["urzad"].Seq())
	}
	if _, ok := r.Decision.Events[len(r.Decision.Events)-1].(queue.TicketIssued); !ok {
		t.Errorf("the decision's events %v do not end with the ticket issued", r.Decision.Events)
	}

	for _, tc := range []struct {
		name   string
		office string
		cmd    queue.Command
	}{
		{"not found", "urzad", queue.CallNext{Counter: 9}},
		{"conflict", "urzad", queue.CallNext{Counter: 1}},
		{"invalid", "urzad", queue.Issue{Service: "meldunek", Channel: queue.ChannelKiosk}},
		{"refused with a refusal", "zamkniety", issue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := actors[tc.office].Do(ctx, "test", tc.cmd).Err
			if _, ok := errors.AsType[*queue.Error](want); !ok {
				t.Fatalf("the writer itself answered %v", want)
			}
			f := &Forwarder{Office: tc.office, Owner: at(srv.URL), Secret: secret}
			got := f.Forward(ctx, "test", tc.cmd).Err
			if !reflect.DeepEqual(got, want) {
				t.Errorf("forwarded, the error is %#v\nat the writer %#v", got, want)
			}
		})
	}
}

func TestForwarderTriesAgainUntilAWriterTakesIt(t *testing.T) {
	secret := []byte("s3cret-of-the-cluster")
	srv, actors := soleWriter(t, secret, testOffice())
	var misdirected atomic.Int32
	// A node that no longer writes the office, twice, then the writer.
	stale := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		misdirected.Add(1)
		writeJSON(w, http.StatusMisdirectedRequest, problem{Error: "this node no longer writes office urzad"})
	}))
	defer stale.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	var asked atomic.Int32
	owners := []func() (string, error){
		func() (string, error) { return "", errNoWriter },
		func() (string, error) { return gone.URL, nil }, // refused connection
		func() (string, error) { return stale.URL, nil },
		func() (string, error) { return stale.URL, nil },
	}
	fwd := &Forwarder{Office: "urzad", Secret: secret, Owner: func(context.Context) (string, error) {
		n := int(asked.Add(1)) - 1
		if n < len(owners) {
			return owners[n]()
		}
		return srv.URL, nil
	}}
	r := fwd.Forward(context.Background(), "test", issue)
	if r.Err != nil || r.Seq == 0 || r.Seq != actors["urzad"].Seq() {
		t.Fatalf("came to %+v", r)
	}
	if asked.Load() != int32(len(owners))+1 || misdirected.Load() != 2 {
		t.Errorf("asked for the writer %d times, sent to the stale node %d times", asked.Load(), misdirected.Load())
	}
}

func TestForwarderGivesUpWithItsCaller(t *testing.T) {
	fwd := &Forwarder{Office: "urzad", Owner: func(context.Context) (string, error) { return "", errNoWriter }}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r := fwd.Forward(ctx, "test", issue)
	if !errors.Is(r.Err, context.DeadlineExceeded) || !strings.Contains(r.Err.Error(), errNoWriter.Error()) {
		t.Errorf("with no writer, forwarding came to %v; want the deadline, saying why", r.Err)
	}
}

func TestForwarderDoesNotRepeatACommandItMayHaveDelivered(t *testing.T) {
	var got atomic.Int32
	// The writer takes the command and the connection dies before it answers.
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer cut.Close()
	fwd := &Forwarder{Office: "urzad", Owner: at(cut.URL), Secret: []byte("x")}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := fwd.Forward(ctx, "test", issue)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "may or may not") {
		t.Errorf("came to %v, want an error saying the command may have run", r.Err)
	}
	if got.Load() != 1 {
		t.Errorf("the command was sent %d times", got.Load())
	}
}
