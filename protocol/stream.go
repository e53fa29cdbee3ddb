package protocol

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Heartbeat is how often an idle stream sends a comment, so proxies and
// clients know the connection lives. A device takes a stream silent for
// StallAfter (2.5 heartbeats) for dead and says it is offline: a cut that
// sends nothing (a pulled cable, a router that drops the connection) must
// show on the screens within 10 s. A comment every 3 s costs a device some
// 5 bytes a second.
const Heartbeat = 3 * time.Second

// StallAfter is how long a device waits for any byte of a stream before it
// takes the stream for dead: long enough for one lost heartbeat and a slow
// link, short enough to say "offline" within 10 s of a silent cut.
const StallAfter = Heartbeat * 5 / 2

// Cursor reads where a client resumes from: the Last-Event-ID header (set
// by EventSource on reconnect) or the "after" query parameter; 0 is "from
// a snapshot".
func Cursor(r *http.Request) (uint64, error) {
	v := r.Header.Get("Last-Event-ID")
	name := "Last-Event-ID"
	if v == "" {
		v, name = r.URL.Query().Get("after"), "after"
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an event id", name, v)
	}
	return n, nil
}
