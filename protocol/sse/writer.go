package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Writer writes one Server-Sent Events stream. It keeps the first write
// error: once the client has gone every later write is a no-op, and Flush
// says so, which is how a stream's loop learns to stop.
//
// Each write moves the connection's write deadline on by WriteWait, so a
// stream lives for hours behind a server whose write timeout is meant for
// requests, while a client that stopped reading is dropped.
type Writer struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	wait time.Duration
	err  error
}

// Options shape a stream.
type Options struct {
	// Retry is the reconnection delay the client is told to use; 0 leaves
	// it to the client.
	Retry time.Duration
	// WriteWait bounds each write; 0 means no deadline of the stream's own.
	WriteWait time.Duration
}

// ErrNoStreaming is returned by Open when the connection cannot flush.
var ErrNoStreaming = errors.New("this connection cannot stream events")

// Open answers the request with an event stream: headers that keep
// caches and proxies from buffering it, the status, and the retry field.
// When the connection cannot stream, Open answers 500 itself and returns
// ErrNoStreaming.
func Open(w http.ResponseWriter, opts Options) (*Writer, error) {
	if _, ok := w.(http.Flusher); !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return nil, ErrNoStreaming
	}
	s := &Writer{w: w, rc: http.NewResponseController(w), wait: opts.WriteWait}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	s.extend()
	w.WriteHeader(http.StatusOK)
	if opts.Retry > 0 {
		s.write(fmt.Sprintf("retry: %d\n\n", opts.Retry.Milliseconds()))
	}
	return s, s.err
}

// extend gives the next writes their deadline; a writer without deadlines
// (a test's recorder) streams without them.
func (s *Writer) extend() {
	if s.wait > 0 {
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.wait))
	}
}

func (s *Writer) write(text string) {
	if s.err != nil {
		return
	}
	s.extend()
	_, s.err = io.WriteString(s.w, text)
}

// Event writes one event. id may be empty (the client's Last-Event-ID then
// stays as it was); data may hold several lines.
func (s *Writer) Event(id, name string, data []byte) {
	s.Frame(AppendFrame(nil, id, name, data))
}

// AppendFrame appends the event as a stream carries it to b: a stream
// that sends one event to many clients frames it once (Writer.Frame).
func AppendFrame(b []byte, id, name string, data []byte) []byte {
	if id != "" {
		b = append(b, "id: "...)
		b = append(b, id...)
		b = append(b, '\n')
	}
	if name != "" {
		b = append(b, "event: "...)
		b = append(b, name...)
		b = append(b, '\n')
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		b = append(b, "data: "...)
		b = append(b, bytes.TrimSuffix(line, []byte("\r"))...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}

// Frame writes an event framed by AppendFrame.
func (s *Writer) Frame(frame []byte) {
	if s.err != nil {
		return
	}
	s.extend()
	_, s.err = s.w.Write(frame)
}

// Comment writes a comment line: a heartbeat that tells proxies and the
// client the connection lives, and that every reader skips.
func (s *Writer) Comment(text string) {
	if text == heartbeat {
		s.write(heartbeatFrame)
		return
	}
	s.write(": " + strings.ReplaceAll(text, "\n", " ") + "\n\n")
}

// heartbeat is the comment a stream sends most, framed once.
const (
	heartbeat      = "heartbeat"
	heartbeatFrame = ": " + heartbeat + "\n\n"
)

// Fail records an error that ends the stream, as a write error would: for
// an event that could not be encoded.
func (s *Writer) Fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// Flush sends what was written and returns the first error of the stream.
func (s *Writer) Flush() error {
	if s.err != nil {
		return s.err
	}
	s.extend()
	if err := s.rc.Flush(); err != nil {
		s.err = fmt.Errorf("flushing the event stream: %w", err)
	}
	return s.err
}
