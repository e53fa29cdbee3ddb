package server

import (
	"io"
	"net/http"
	"time"
)

// Timeouts bound what one client can hold of the server: a slow or silent
// client (a body sent a byte a second, a keep-alive connection left idle,
// endless headers) must not keep a connection and its goroutine forever.
// Event streams are long by design; they live by their own write deadline
// instead (see Server.Stream).
type Timeouts struct {
	// ReadHeader is the time to read a request's headers.
	ReadHeader time.Duration
	// Read is the time to read a whole request, body included (bodies are
	// at most MaxBody).
	Read time.Duration
	// Write is the time from the end of the request's headers to the end
	// of its answer; longer than Read, so that a request cut for a slow
	// body still gets its answer.
	Write time.Duration
	// Idle is how long a keep-alive connection may wait for its next
	// request.
	Idle time.Duration
	// MaxHeaderBytes bounds a request's headers; more is answered 431.
	MaxHeaderBytes int
	// StreamWrite is the time one write of an event stream may take: a
	// stream whose client stopped reading is ended after it.
	StreamWrite time.Duration
}

// DefaultTimeouts are the limits the queue server runs with.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		ReadHeader:     10 * time.Second,
		Read:           30 * time.Second,
		Write:          60 * time.Second,
		Idle:           90 * time.Second,
		MaxHeaderBytes: 32 << 10,
		StreamWrite:    20 * time.Second,
	}
}

// orDefaults fills the limits left zero.
func (t Timeouts) orDefaults() Timeouts {
	d := DefaultTimeouts()
	if t.ReadHeader <= 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Read <= 0 {
		t.Read = d.Read
	}
	if t.Write <= 0 {
		t.Write = d.Write
	}
	if t.Idle <= 0 {
		t.Idle = d.Idle
	}
	if t.MaxHeaderBytes <= 0 {
		t.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if t.StreamWrite <= 0 {
		t.StreamWrite = d.StreamWrite
	}
	return t
}

// HTTPServer is the http.Server to serve s with: its handler and its
// limits on slow clients. Every listener of the queue server serves
// through one of these.
func (s *Server) HTTPServer() *http.Server {
	t := s.timeouts
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
	}
}

// Stream lets an event stream outlive the server's read and write
// timeouts, which are meant for ordinary requests: once the handler runs,
// the request (a GET) has been read, so the read deadline is lifted; and
// each write gets its own deadline of Timeouts.StreamWrite, so a stream
// lives as long as its client keeps reading and ends soon after it stops.
func (s *Server) Stream(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// The background read that notices a client going away must not
		// time out either: it would cancel the request's context.
		_ = rc.SetReadDeadline(time.Time{})
		h(&streamWriter{ResponseWriter: w, rc: rc, every: s.timeouts.StreamWrite}, r)
	}
}

// streamWriter gives each write of a stream a fresh deadline.
type streamWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	every time.Duration
}

func (w *streamWriter) extend() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.every)) }

func (w *streamWriter) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

func (w *streamWriter) WriteHeader(code int) {
	w.extend()
	w.ResponseWriter.WriteHeader(code)
}

// Flush sends what is buffered within the write deadline.
func (w *streamWriter) Flush() {
	w.extend()
	_ = w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Transfer lets h move a large body (a bundle uploaded or downloaded)
// for as long as it keeps moving: each read of the request's body and
// each write of the answer gets a fresh deadline of StreamWrite, instead
// of the whole request's Read and Write times, so a slow but steady
// transfer goes on and a stalled one is cut.
func (s *Server) Transfer(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		every := s.timeouts.StreamWrite
		_ = rc.SetReadDeadline(time.Now().Add(every))
		r.Body = &deadlineReader{ReadCloser: r.Body, extend: func() { _ = rc.SetReadDeadline(time.Now().Add(every)) }}
		h(&streamWriter{ResponseWriter: w, rc: rc, every: every}, r)
	}
}

// deadlineReader extends the read deadline before each read.
type deadlineReader struct {
	io.ReadCloser
	extend func()
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	d.extend()
	return d.ReadCloser.Read(p)
}
