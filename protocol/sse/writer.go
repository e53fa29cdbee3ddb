package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Writer writes one Server-Sent Events stream. It keeps the first write
// error: once the client has gone every later write is a no-op, and Flush
// says so, which is how a stream's loop learns to stop.
//
// Each write moves the connection's write deadline on by WriteWait, so a
// stream lives for hours behind a server whose write timeout is meant for
// requests, while a client that stopped reading is dropped.
//
// A stream of HTTP/1.1 can be detached from the HTTP server (Detach): the
// writer then writes the response's chunks to the connection itself.
type Writer struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	wait time.Duration
	err  error

	// Once detached: the connection, and what was written since the last
	// flush (pending[0] is kept for the chunk's size line, head).
	conn    net.Conn
	raw     syscall.RawConn // conn's, to write without waiting (TryFlush); nil: no such thing
	pending net.Buffers
	head    [20]byte // a chunk's size line (16 hex digits and CRLF at most), and the CRLF that ends it
	// unsent is the end of a chunk TryFlush could not write at once: the
	// next flush writes it first.
	unsent []byte
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
	switch {
	case s.wait <= 0:
	case s.conn != nil:
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.wait))
	default:
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.wait))
	}
}

func (s *Writer) write(text string) {
	if s.err != nil {
		return
	}
	if s.conn != nil {
		s.hold([]byte(text))
		return
	}
	s.extend()
	_, s.err = io.WriteString(s.w, text)
}

// hold keeps what a detached stream writes until its flush, without
// copying: frames are shared by every stream that sends them.
func (s *Writer) hold(b []byte) {
	if len(s.pending) == 0 {
		s.pending = append(s.pending, nil)
	}
	s.pending = append(s.pending, b)
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
	if s.conn != nil {
		s.hold(frame)
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
	if s.conn != nil {
		return s.flushChunk()
	}
	s.extend()
	if err := s.rc.Flush(); err != nil {
		s.err = fmt.Errorf("flushing the event stream: %w", err)
	}
	return s.err
}

// ErrNotDetachable is returned by Detach for a stream that is not plain
// HTTP/1.1 (HTTP/2, HTTP/1.0, HEAD) or whose connection cannot be taken.
var ErrNotDetachable = errors.New("this event stream cannot be detached from the HTTP server")

// Detach takes the stream's connection over from the HTTP server, so the
// handler can return and the server let go of what it holds for a
// request (its goroutines, its buffers): an idle stream then costs a few
// hundred bytes and the goroutine that reads the connection. What was
// written is flushed first; later writes go to the connection as the
// response's chunks, the same bytes the server would have sent, one
// chunk a flush, written at once. gone is closed when the client closes
// the connection (it is read and what it sends is ignored). After a
// successful Detach the writer must be ended with Close; on an error it
// goes on as before.
func (s *Writer) Detach(r *http.Request) (gone <-chan struct{}, err error) {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.Method == http.MethodHead {
		return nil, ErrNotDetachable
	}
	if err := s.Flush(); err != nil {
		return nil, err
	}
	conn, _, err := s.rc.Hijack()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotDetachable, err)
	}
	// The request has been read whole: bytes the client sent after it
	// (buffered by the server, dropped here) are no part of the stream.
	s.conn, s.w, s.rc = conn, nil, nil
	if sc, ok := conn.(syscall.Conn); ok {
		s.raw, _ = sc.SyscallConn()
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		var b [64]byte
		for {
			if _, err := conn.Read(b[:]); err != nil {
				return
			}
		}
	}()
	return closed, nil
}

// flushChunk writes what a detached stream holds as one HTTP/1.1 chunk,
// in one system call, after what TryFlush left unsent.
func (s *Writer) flushChunk() error {
	if len(s.unsent) > 0 {
		s.extend()
		if _, err := s.conn.Write(s.unsent); err != nil {
			s.err = fmt.Errorf("flushing the event stream: %w", err)
			return s.err
		}
		s.unsent = nil
	}
	if len(s.pending) == 0 {
		return nil
	}
	s.extend()
	chunk := s.chunk()
	if _, err := chunk.WriteTo(s.conn); err != nil {
		s.err = fmt.Errorf("flushing the event stream: %w", err)
	}
	s.release()
	return s.err
}

// chunk frames what the stream holds as one chunk: its size line, the
// frames, CRLF.
func (s *Writer) chunk() net.Buffers {
	n := 0
	for _, b := range s.pending[1:] {
		n += len(b)
	}
	head := strconv.AppendUint(s.head[:0:18], uint64(n), 16)
	s.pending[0] = append(head, "\r\n"...)
	s.head[18], s.head[19] = '\r', '\n'
	s.pending = append(s.pending, s.head[18:20])
	return s.pending
}

// release lets go of the frames of a chunk written.
func (s *Writer) release() {
	clear(s.pending)
	s.pending = s.pending[:0]
	if cap(s.pending) > 16 {
		s.pending = nil // an idle stream keeps no burst's list
	}
}

// TryFlush is Flush for a detached stream that does not wait: it writes
// what the connection's buffer takes at once and returns true if that was
// all, false if something is left for Flush (the buffer was full, or this
// connection cannot be written without waiting) or the stream has
// failed. It lets another goroutine than the stream's own send its
// events, one that must not wait for any connection; the caller keeps
// the writer's other users out meanwhile. The bytes sent are Flush's.
func (s *Writer) TryFlush() bool {
	switch {
	case s.err != nil || len(s.unsent) > 0:
		return false
	case len(s.pending) == 0:
		return true
	case s.raw == nil:
		return false
	}
	chunk := s.chunk()
	total := 0
	for _, b := range chunk {
		total += len(b)
	}
	n, err := writeNow(s.raw, chunk)
	if err != nil {
		s.err = fmt.Errorf("flushing the event stream: %w", err)
	} else if n < total {
		for _, b := range chunk {
			skip := min(n, len(b))
			s.unsent = append(s.unsent, b[skip:]...)
			n -= skip
		}
	}
	s.release()
	return s.err == nil && len(s.unsent) == 0
}

// Close ends a detached stream as the HTTP server ends a response (its
// last, empty chunk) and closes the connection; a stream not detached is
// left to its handler's end.
func (s *Writer) Close() error {
	if s.conn == nil {
		return nil
	}
	if s.Flush() == nil {
		s.extend()
		_, _ = io.WriteString(s.conn, "0\r\n\r\n")
	}
	return s.conn.Close()
}
