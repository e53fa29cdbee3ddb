// Package noticetest records the notices a part of the server hands over,
// for tests of that part: the outbox that really delivers them is tested
// on its own.
package noticetest

import (
	"context"
	"sync"

	"github.com/numerek/numerek/server/notice"
)

// Recorder is a notice.Sender that keeps what it is given, once per Key,
// as the outbox does.
type Recorder struct {
	mu   sync.Mutex
	sent []notice.Notice
	keys map[string]bool
}

// Send records n unless a notice with its key was recorded before.
func (r *Recorder) Send(_ context.Context, n notice.Notice) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = map[string]bool{}
	}
	if !r.keys[n.Key] {
		r.keys[n.Key] = true
		r.sent = append(r.sent, n)
	}
	return nil
}

// Reaches says every contact can be reached, as an outbox with e-mail and
// SMS configured does.
func (r *Recorder) Reaches(string) bool { return true }

// Sent returns the notices recorded so far, oldest first.
func (r *Recorder) Sent() []notice.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notice.Notice(nil), r.sent...)
}

// Kinds returns the kinds of the notices recorded, oldest first.
func (r *Recorder) Kinds() []notice.Kind {
	var out []notice.Kind
	for _, n := range r.Sent() {
		out = append(out, n.Kind)
	}
	return out
}

// Last returns the newest notice to contact; ok=false if none.
func (r *Recorder) Last(contact string) (notice.Notice, bool) {
	sent := r.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].Contact == contact {
			return sent[i], true
		}
	}
	return notice.Notice{}, false
}
