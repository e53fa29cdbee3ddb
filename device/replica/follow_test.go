package replica_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/servertest"
	"github.com/numerek/numerek/store"
)

// following is a Follower running in the background.
type following struct {
	*replica.Follower
	cancel context.CancelFunc
	done   chan struct{}
}

func (f *following) stop() {
	f.cancel()
	<-f.done
}

func openDB(t testing.TB, path string) *store.DeviceDB {
	t.Helper()
	db, err := store.OpenDevice(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func follow(t *testing.T, url, office, token string, db *store.DeviceDB, opts replica.FollowOptions) *following {
	t.Helper()
	c, err := protocol.NewClient(url, office, token, protocol.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := replica.NewFollower(c, db, replica.NewClock(0), slog.New(slog.DiscardHandler), opts)
	if _, err := f.Restore(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &following{Follower: f, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); f.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	waitfor.Until(t, what, timeout, cond)
}

func seqOf(f *following) uint64 { return f.Status().Seq }

func serverSeq(t *testing.T, srv *servertest.Server) uint64 { return srv.View().Seq }

// stateJSON is the follower's state as JSON.
func stateJSON(t *testing.T, f *following) string {
	t.Helper()
	var data []byte
	f.Read(func(s *queue.State) { data, _ = json.Marshal(s) })
	return string(data)
}

func serverStateJSON(t *testing.T, srv *servertest.Server) string {
	t.Helper()
	var data []byte
	if err := srv.Actor().Query(context.Background(), func(s *queue.State) { data, _ = json.Marshal(s) }); err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// busy works the office through a clerk's token: counters open, tickets
// issued, called, served.
func busy(t *testing.T, srv *servertest.Server, clerk string, tickets int) {
	t.Helper()
	for n := 1; n <= 3; n++ {
		srv.MustCall(clerk, "POST", "/counters/"+string(rune('0'+n))+"/open", "", 200)
	}
	services := []string{"family", "child800", "documents"}
	for i := 0; i < tickets; i++ {
		body := `{"service":"` + services[i%3] + `","lang":"pl","request_id":"` + time.Now().Format("150405.000000000") + `"}`
		srv.MustCall(clerk, "POST", "/tickets", body, 201)
		if i%3 == 2 {
			srv.MustCall(clerk, "POST", "/counters/"+string(rune('1'+i%3))+"/next", "", 200)
		}
	}
}

// The device's fold of the stream is the server's state, byte for byte.
func TestFollowerFoldsLikeTheServer(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	clerk := srv.Tokens["clerk"]
	busy(t, srv, clerk, 4)
	f := follow(t, srv.URL, srv.Office.ID, srv.Tokens["hall"], openDB(t, filepath.Join(t.TempDir(), "d.db")), replica.FollowOptions{})
	waitFor(t, "the snapshot", 5*time.Second, func() bool { return seqOf(f) == serverSeq(t, srv) })
	busy(t, srv, clerk, 9)
	want := serverSeq(t, srv)
	waitFor(t, "the events", 5*time.Second, func() bool { return seqOf(f) == want })
	if got, want := stateJSON(t, f), serverStateJSON(t, srv); got != want {
		t.Errorf("device state differs from the server's:\n device %s\n server %s", got, want)
	}
	if st := f.Status(); !st.Online || st.Snapshots != 1 || st.Resyncs != 0 {
		t.Errorf("status %+v", st)
	}
}

// How long after the server's commit an event is folded in is measured
// on the server's clock as the device knows it (its client's answers
// teach it), which in the test is days behind the machine's: uncorrected
// the lag would be days, not the moments the events took.
func TestFollowerLag(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	clock := replica.NewClock(0)
	c, err := protocol.NewClient(srv.URL, srv.Office.ID, srv.Tokens["hall"], protocol.ClientOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	f := replica.NewFollower(c, openDB(t, filepath.Join(t.TempDir(), "d.db")), clock, slog.New(slog.DiscardHandler), replica.FollowOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the snapshot", 5*time.Second, func() bool { return f.Status().Snapshots == 1 })
	busy(t, srv, srv.Tokens["clerk"], 3)
	want := serverSeq(t, srv)
	waitFor(t, "the events", 5*time.Second, func() bool { return f.Status().Seq == want })
	if lag := f.Status().LagMS; !clock.Known() || lag > 5000 {
		t.Errorf("lag %d ms (clock known %v)", lag, clock.Known())
	}
}

// A server that goes away and comes back: the device says offline after
// a while, then resumes from its last event without a new snapshot.
func TestFollowerResumesAfterServerRestart(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	clerk := srv.Tokens["clerk"]
	f := follow(t, srv.URL, srv.Office.ID, srv.Tokens["hall"], openDB(t, filepath.Join(t.TempDir(), "d.db")),
		replica.FollowOptions{OfflineAfter: 200 * time.Millisecond, Backoff: protocol.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
	busy(t, srv, clerk, 3)
	waitFor(t, "the first events", 5*time.Second, func() bool { return seqOf(f) == serverSeq(t, srv) })

	srv.Stop()
	waitFor(t, "offline", 5*time.Second, func() bool { return !f.Online() })
	srv.Restart()
	busy(t, srv, clerk, 3)
	want := serverSeq(t, srv)
	waitFor(t, "the events after the restart", 10*time.Second, func() bool { return seqOf(f) == want })
	if !f.Online() {
		t.Error("offline after catching up")
	}
	if got, want := stateJSON(t, f), serverStateJSON(t, srv); got != want {
		t.Errorf("device state differs from the server's after the restart")
	}
	if st := f.Status(); st.Connects < 2 || st.Snapshots != 1 {
		t.Errorf("status %+v: want a resume (one snapshot in all) after reconnecting", st)
	}
}

// A restarted device shows the state it saved at once, and resumes from
// it rather than taking a snapshot.
func TestFollowerRestartShowsSavedState(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	clerk := srv.Tokens["clerk"]
	hall := srv.Tokens["hall"]
	busy(t, srv, clerk, 5)
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := store.OpenDevice(path)
	if err != nil {
		t.Fatal(err)
	}
	f := follow(t, srv.URL, srv.Office.ID, hall, db, replica.FollowOptions{})
	want := serverSeq(t, srv)
	waitFor(t, "the snapshot", 5*time.Second, func() bool { return seqOf(f) == want })
	f.stop() // saves on the way out
	db.Close()
	busy(t, srv, clerk, 2)

	c, _ := protocol.NewClient(srv.URL, srv.Office.ID, hall, protocol.ClientOptions{})
	again := replica.NewFollower(c, openDB(t, path), replica.NewClock(0), nil, replica.FollowOptions{})
	ok, err := again.Restore()
	if err != nil || !ok || again.Status().Seq != want {
		t.Fatalf("restored %v, %v at seq %d; want seq %d before connecting", ok, err, again.Status().Seq, want)
	}
	if !again.Read(func(s *queue.State) {
		if len(s.Tickets) != 5 {
			t.Errorf("restored state has %d tickets, want 5", len(s.Tickets))
		}
	}) {
		t.Fatal("no state to read after restoring")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); again.Run(ctx) }()
	defer func() { cancel(); <-done }()
	latest := serverSeq(t, srv)
	waitFor(t, "catching up", 5*time.Second, func() bool { return again.Status().Seq == latest })
	if st := again.Status(); st.Snapshots != 0 {
		t.Errorf("status %+v: a restart resumed with a snapshot, want a resume", st)
	}
}

// catchUp follows srv with the device file at path until the device has
// every event.
func catchUp(t *testing.T, srv *servertest.Server, path string) (*following, *store.DeviceDB) {
	t.Helper()
	db, err := store.OpenDevice(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := follow(t, srv.URL, srv.Office.ID, srv.Tokens["hall"], db, replica.FollowOptions{})
	want := serverSeq(t, srv)
	waitFor(t, "the device to catch up", 5*time.Second, func() bool { return seqOf(f) == want })
	return f, db
}

// followOnce is catchUp, then the device stops and closes its file.
func followOnce(t *testing.T, srv *servertest.Server, path string) {
	t.Helper()
	f, db := catchUp(t, srv, path)
	f.stop()
	db.Close()
}

// A server restored from an old backup is behind the device: the device
// follows the server.
func TestFollowerFollowsAServerBehindIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	long := servertest.Start(t, servertest.Options{})
	busy(t, long, long.Tokens["clerk"], 12)
	followOnce(t, long, path)

	short := servertest.Start(t, servertest.Options{})
	busy(t, short, short.Tokens["clerk"], 1)
	g, _ := catchUp(t, short, path)
	if got, want := stateJSON(t, g), serverStateJSON(t, short); got != want {
		t.Errorf("device state differs from the restored server's")
	}
	if st := g.Status(); st.Rewinds != 1 {
		t.Errorf("status %+v: want one rewind", st)
	}
}

// Events that do not fit the device's state (its state came from another
// history) make it take a snapshot and go on.
func TestFollowerResyncsWhenEventsDoNotFit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	a := servertest.Start(t, servertest.Options{})
	// Server A's history: six events that server B's does not share.
	clerkA := a.Tokens["clerk"]
	for _, action := range []string{"4/open", "5/open", "6/open", "4/pause", "4/open"} {
		a.MustCall(clerkA, "POST", "/counters/"+action, "", 200)
	}
	followOnce(t, a, path)

	// Server B's history calls tickets the device never saw issued.
	b := servertest.Start(t, servertest.Options{})
	busy(t, b, b.Tokens["clerk"], 9)
	g, _ := catchUp(t, b, path)
	if st := g.Status(); st.Resyncs != 1 {
		t.Errorf("status %+v: want one resync", st)
	}
	if got, want := stateJSON(t, g), serverStateJSON(t, b); got != want {
		t.Errorf("device state differs from server B's after the resync")
	}
}

// throughProxy starts a fault proxy to srv, closed when the test ends.
func throughProxy(t *testing.T, srv *servertest.Server) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Listen("127.0.0.1:0", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// A stream that goes silent (no heartbeat) is taken for dead and opened
// again, without the device going offline when the silence is shorter
// than OfflineAfter.
func TestFollowerNoticesASilentStream(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Heartbeat: 50 * time.Millisecond})
	proxy := throughProxy(t, srv)
	clerk := srv.Tokens["clerk"]
	f := follow(t, "http://"+proxy.Addr(), srv.Office.ID, srv.Tokens["hall"], openDB(t, filepath.Join(t.TempDir(), "d.db")),
		replica.FollowOptions{StallAfter: 400 * time.Millisecond, OfflineAfter: 5 * time.Second, Backoff: protocol.Backoff{Min: 20 * time.Millisecond, Max: 50 * time.Millisecond}})
	waitFor(t, "the stream", 5*time.Second, func() bool { return f.Status().Snapshots == 1 })
	proxy.Set(faultproxy.BlackHole)
	waitFor(t, "the stall noticed", 5*time.Second, func() bool { return strings.Contains(f.Status().LastError, "no data") })
	busy(t, srv, clerk, 2)
	proxy.Set(faultproxy.Pass)
	want := serverSeq(t, srv)
	waitFor(t, "the events after the stall", 5*time.Second, func() bool { return seqOf(f) == want })
	if st := f.Status(); st.Connects < 2 || !st.Online {
		t.Errorf("status %+v: want a second stream and online throughout", st)
	}
}

// A cut that sends nothing (no FIN, no RST: a pulled cable) with the
// real heartbeat and the device's default settings: the device says it
// is offline within 10 s of the cut, and once the link is back it
// resumes where it stopped, the calls made meanwhile included.
func TestFollowerSaysOfflineSoonAfterASilentCut(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	proxy := throughProxy(t, srv)
	clerk := srv.Tokens["clerk"]
	busy(t, srv, clerk, 3)
	f := follow(t, "http://"+proxy.Addr(), srv.Office.ID, srv.Tokens["hall"], openDB(t, filepath.Join(t.TempDir(), "d.db")), replica.FollowOptions{})
	waitFor(t, "the stream", 5*time.Second, func() bool { return f.Online() && seqOf(f) == serverSeq(t, srv) })

	cut := time.Now()
	proxy.Set(faultproxy.BlackHole)
	waitFor(t, "the device to say it is offline", 12*time.Second, func() bool { return !f.Online() })
	if took := time.Since(cut); took > 10*time.Second {
		t.Errorf("the device said it was offline %v after the cut, want under 10 s", took.Round(time.Millisecond))
	}
	busy(t, srv, clerk, 3) // calls made while the device cannot hear
	proxy.Set(faultproxy.Pass)
	want := serverSeq(t, srv)
	waitFor(t, "the device back online with the calls made meanwhile", 15*time.Second, func() bool { return f.Online() && seqOf(f) == want })
	if got, want := stateJSON(t, f), serverStateJSON(t, srv); got != want {
		t.Errorf("device state differs from the server's after the cut:\n device %s\n server %s", got, want)
	}
	if st := f.Status(); st.Snapshots != 1 {
		t.Errorf("status %+v: want the device to resume from its last event, not from a new snapshot", st)
	}
}
