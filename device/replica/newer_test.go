package replica_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/server/servertest"
	"github.com/numerek/numerek/store"
)

// renamingBody passes a stream through, renaming the first event of one
// kind to a kind this build does not know: what a device meets when its
// server is newer than it.
type renamingBody struct {
	io.ReadCloser
	once     *sync.Once
	from, to []byte
}

func (b renamingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if i := bytes.Index(p[:n], b.from); i >= 0 {
		b.once.Do(func() { copy(p[i:], b.to) })
	}
	return n, err
}

// An event of a kind the device does not know (a newer server's) does
// not stall it: it takes a snapshot, which carries the event's effect,
// and follows on.
func TestFollowerTakesASnapshotForAnEventItDoesNotKnow(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	once := &sync.Once{}
	proxy.ModifyResponse = func(r *http.Response) error {
		if strings.HasSuffix(r.Request.URL.Path, "/events") {
			// The same length, so the stream's framing stays intact.
			r.Body = renamingBody{r.Body, once, []byte(`"type":"CounterOpened"`), []byte(`"type":"CounterOpenex"`)}
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)

	db, err := store.OpenDevice(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := follow(t, front.URL, srv.Office.ID, srv.Tokens["hall"], db, replica.FollowOptions{})
	waitFor(t, "the first snapshot", 5*time.Second, func() bool {
		st := f.Status()
		return st.Online && st.Snapshots == 1 && st.Seq == serverSeq(t, srv)
	})
	clerk := srv.Tokens["clerk"]
	srv.MustCall(clerk, "POST", "/counters/4/open", "", 200)
	srv.MustCall(clerk, "POST", "/counters/4/pause", "", 200)
	want := serverSeq(t, srv)
	waitFor(t, "the device to catch up past the unknown event", 5*time.Second, func() bool { return seqOf(f) == want })
	if st := f.Status(); st.Resyncs != 1 {
		t.Errorf("status %+v: want one resync for the unknown event", st)
	}
	if got, want := stateJSON(t, f), serverStateJSON(t, srv); got != want {
		t.Errorf("device state differs from the server's after the unknown event")
	}
}
