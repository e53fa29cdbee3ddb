package sse

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	stream := ": heartbeat\n\nid: 7\nevent: TicketCalled\ndata: {\"a\":1}\n\nretry: 2000\n\nid: 8\nevent: snapshot\ndata: line1\ndata: line2\n\n"
	var got []Message
	err := Read(strings.NewReader(stream), func(m Message) error { got = append(got, m); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "7" || got[0].Event != "TicketCalled" || string(got[0].Data) != `{"a":1}` {
		t.Fatalf("got %+v", got)
	}
	if string(got[1].Data) != "line1\nline2" {
		t.Errorf("multi-line data %q", got[1].Data)
	}
	if seq, err := got[1].Seq(); err != nil || seq != 8 {
		t.Errorf("Seq = %d, %v", seq, err)
	}
	stop := errors.New("stop")
	if err := Read(strings.NewReader(stream), func(Message) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error not returned: %v", err)
	}
	if err := Read(strings.NewReader("bogus: x\n\n"), func(Message) error { return nil }); err == nil {
		t.Errorf("an unknown field was accepted")
	}
}

// FuzzRead: the stream comes from the network; parsing must never
// panic, and every message it yields has its fields from the input.
func FuzzRead(f *testing.F) {
	f.Add("id: 1\nevent: x\ndata: {}\n\n")
	f.Add(": c\n\ndata: a\ndata: b\n\n")
	f.Add("id:5\r\ndata:\r\n\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		_ = Read(strings.NewReader(s), func(m Message) error {
			if !strings.Contains(s, m.ID) || !strings.Contains(s, m.Event) {
				t.Fatalf("message %+v not from the input", m)
			}
			return nil
		})
	})
}

// What the writer writes, the reader reads back unchanged: ids, names and
// data of several lines.
func TestWriterRoundTrip(t *testing.T) {
	rec := httptest.NewRecorder()
	w, err := Open(rec, Options{Retry: 2 * time.Second, WriteWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w.Event("7", "TicketCalled", []byte(`{"a":1}`))
	w.Comment("heartbeat\nwith a line break")
	w.Event("", "changed", []byte("line1\nline2"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.HasPrefix(rec.Body.String(), "retry: 2000\n\n") {
		t.Errorf("stream does not start with the retry field: %q", rec.Body.String())
	}
	var got []Message
	if err := Read(rec.Body, func(m Message) error { got = append(got, m); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []Message{{ID: "7", Event: "TicketCalled", Data: []byte(`{"a":1}`)}, {Event: "changed", Data: []byte("line1\nline2")}}
	if len(got) != len(want) {
		t.Fatalf("read %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Event != want[i].Event || string(got[i].Data) != string(want[i].Data) {
			t.Errorf("message %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A write after the client went is not attempted, and Flush says why.
func TestWriterKeepsTheFirstError(t *testing.T) {
	rec := httptest.NewRecorder()
	w, err := Open(rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	gone := errors.New("client gone")
	w.Fail(gone)
	w.Event("1", "x", []byte("{}"))
	if err := w.Flush(); !errors.Is(err, gone) {
		t.Errorf("Flush = %v, want %v", err, gone)
	}
	if strings.Contains(rec.Body.String(), "id: 1") {
		t.Errorf("an event was written after the stream failed")
	}
}

// detachedStream is a stream detached from net/http with a client
// connected that reads nothing until the test does.
func detachedStream(t *testing.T, writeWait time.Duration) (*Writer, *http.Response) {
	t.Helper()
	writers := make(chan *Writer, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, err := Open(w, Options{WriteWait: writeWait})
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := sw.Detach(r); err != nil {
			t.Error(err)
			return
		}
		writers <- sw
	}))
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	sw := <-writers
	t.Cleanup(func() { sw.Close() })
	return sw, resp
}

// A detached stream's flush that does not wait (TryFlush) writes what the
// connection takes and leaves the rest to Flush: the client, once it
// reads, has every event once, in order, in well-formed chunks.
func TestTryFlushLeavesTheRestToFlush(t *testing.T) {
	sw, resp := detachedStream(t, 10*time.Second)

	// The client reads nothing until the connection's buffers are full.
	data := bytes.Repeat([]byte("x"), 32<<10)
	sent := 0
	for full := false; !full; sent++ {
		if sent == 2000 {
			t.Fatal("the connection took 64 MB its client did not read")
		}
		sw.Event(strconv.Itoa(sent), "big", data)
		full = !sw.TryFlush()
	}
	sw.Event(strconv.Itoa(sent), "big", data)
	sent++
	if sw.TryFlush() {
		t.Error("TryFlush sent an event behind what it could not send")
	}
	flushed := make(chan error, 1)
	go func() { flushed <- sw.Flush() }()
	read := 0
	allRead := errors.New("all read")
	err := Read(resp.Body, func(m Message) error {
		if m.ID != strconv.Itoa(read) || !bytes.Equal(m.Data, data) {
			return fmt.Errorf("event %d: id %q, %d bytes of data", read, m.ID, len(m.Data))
		}
		if read++; read == sent {
			return allRead
		}
		return nil
	})
	if !errors.Is(err, allRead) {
		t.Fatalf("after %d of %d events: %v", read, sent, err)
	}
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
}

// A stream whose write deadline has passed since its last write (its
// goroutine was late) is not failed by TryFlush: Flush, which moves the
// deadline on, sends the event.
func TestTryFlushAfterTheWriteDeadline(t *testing.T) {
	sw, resp := detachedStream(t, 50*time.Millisecond)
	sw.Event("0", "first", []byte("{}"))
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the deadline of that write has passed
	sw.Event("1", "late", []byte("{}"))
	if sw.TryFlush() {
		t.Error("TryFlush wrote past the write deadline")
	}
	if err := sw.Flush(); err != nil {
		t.Fatalf("Flush after TryFlush met the deadline: %v", err)
	}
	got, read := errors.New("got it"), 0
	err := Read(resp.Body, func(m Message) error {
		if m.ID != strconv.Itoa(read) {
			return fmt.Errorf("event %q, want %d", m.ID, read)
		}
		if read++; read == 2 {
			return got
		}
		return nil
	})
	if !errors.Is(err, got) {
		t.Fatal(err)
	}
}
