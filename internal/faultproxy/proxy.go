// Package faultproxy is a TCP proxy that stands between a device and its
// server and fails, on demand, the way the networks of offices fail: it
// holds connections and forwards nothing (a black hole), it delivers the
// server's answers late and a trickle at a time (a slow server or
// uplink), and it cuts connections silently, with no FIN and no RST, as
// a router that lost its state or a pulled cable does. The chaos run
// (cmd/numerek-chaos) puts a kioskd behind it.
//
// Nothing is faked above TCP: both sides talk to real sockets, and a
// silently cut connection stays open on both sides, dead, until one side
// gives up on it by itself.
package faultproxy

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Mode is how the proxy treats the bytes it carries.
type Mode int

const (
	// Pass forwards everything at once.
	Pass Mode = iota
	// BlackHole holds every connection: nothing is read or forwarded and
	// nothing is closed, as when packets vanish on the way; new
	// connections are accepted and held too. Back in Pass, held
	// connections carry on with nothing lost, as TCP's retransmissions
	// would after a short outage.
	BlackHole
	// Slow delivers what the server sends back late (by the delay given
	// to SetSlow) and, when a rate is given, a few bytes at a time; what
	// the client sends arrives at once. It is a server that answers
	// after the client has stopped waiting.
	Slow
	// Cut kills every connection, open now or opened later, silently:
	// their bytes are read and dropped and neither side is told, ever.
	// Connections cut stay dead when the mode changes; connections
	// opened after a change to Pass work.
	Cut
)

func (m Mode) String() string {
	switch m {
	case Pass:
		return "pass"
	case BlackHole:
		return "black-hole"
	case Slow:
		return "slow"
	case Cut:
		return "cut"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Proxy forwards connections made to its address to a target address.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	mode    Mode
	delay   time.Duration
	rate    int           // bytes per second in Slow mode; 0 is no limit
	changed chan struct{} // closed (and replaced) at every change of mode
	links   map[*link]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// Listen starts a proxy on addr (such as "127.0.0.1:0") that forwards to
// target, in Pass mode.
func Listen(addr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listening on %s: %w", addr, err)
	}
	p := &Proxy{ln: ln, target: target, changed: make(chan struct{}), links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Set switches the mode; it applies at once to the connections already
// open (except those cut, which stay dead).
func (p *Proxy) Set(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	if m == Cut {
		for l := range p.links {
			l.dead = true
		}
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// SetSlow switches to Slow: the server's bytes reach the client delay
// after the proxy read them, at bytesPerSecond (0: as fast as they
// come).
func (p *Proxy) SetSlow(delay time.Duration, bytesPerSecond int) {
	p.mu.Lock()
	p.delay, p.rate = delay, bytesPerSecond
	p.mu.Unlock()
	p.Set(Slow)
}

// CutNow silently kills the connections open now, as Cut does, and
// leaves the mode as it is: connections opened afterwards follow it.
func (p *Proxy) CutNow() {
	p.mu.Lock()
	for l := range p.links {
		l.dead = true
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// Open counts the connections the proxy holds now, dead ones included.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Close stops accepting and closes every connection, dead ones too.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for l := range p.links {
		l.closeBoth()
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

// link is one proxied connection: client is the accepted side, server
// the side dialled to the target (nil until it is dialled).
type link struct {
	client, server net.Conn
	dead           bool // guarded by Proxy.mu
}

func (l *link) closeBoth() {
	l.client.Close()
	if l.server != nil {
		l.server.Close()
	}
}

// state reads what a link should do now, and a channel closed at the
// next change.
func (p *Proxy) state(l *link) (mode Mode, dead, closed bool, delay time.Duration, rate int, changed <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode, l.dead, p.closed, p.delay, p.rate, p.changed
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		l := &link{client: c}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		l.dead = p.mode == Cut
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(l)
	}
}

// serve dials the target once the mode lets bytes through, then pumps
// both ways until both directions have ended.
func (p *Proxy) serve(l *link) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
		l.closeBoth()
	}()
	// A connection born in a black hole reaches the server only once the
	// hole closes; one born cut never does.
	for {
		mode, dead, closed, _, _, changed := p.state(l)
		if closed {
			return
		}
		if dead {
			_, _ = io.Copy(io.Discard, l.client)
			return
		}
		if mode != BlackHole {
			break
		}
		<-changed
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return // the client sees its connection closed, as a refused one
	}
	p.mu.Lock()
	l.server = s
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	var both sync.WaitGroup
	both.Add(2)
	go func() { defer both.Done(); p.pump(l, l.client, s, false) }()
	go func() { defer both.Done(); p.pump(l, s, l.client, true) }()
	both.Wait()
}

// chunk is bytes read from one side, and when.
type chunk struct {
	data []byte
	at   time.Time
}

// pump carries src to dst. down is the server-to-client direction, the
// one Slow delays. A reader goroutine stamps what it reads, so Slow adds
// latency rather than slowing reads down.
func (p *Proxy) pump(l *link, src, dst net.Conn, down bool) {
	chunks := make(chan chunk, 64)
	go func() {
		defer close(chunks)
		for {
			// Held in a black hole: not even read, so the sender's
			// window fills as on a real stalled path.
			if !p.waitOpen(l) {
				_, _ = io.Copy(io.Discard, src)
				return
			}
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{data: buf[:n], at: time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		if !p.deliver(l, dst, c, down) {
			// Dead or failing: read and drop the rest until src ends.
			for range chunks {
			}
			break
		}
	}
	_, dead, _, _, _, _ := p.state(l)
	if dead {
		return // a dead path passes no FIN either
	}
	// src ended: pass its FIN on, as the network would.
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// waitOpen waits while the link is held in a black hole; false means it
// is dead or the proxy closed.
func (p *Proxy) waitOpen(l *link) bool {
	for {
		mode, dead, closed, _, _, changed := p.state(l)
		switch {
		case dead || closed:
			return false
		case mode != BlackHole:
			return true
		}
		<-changed
	}
}

// deliver writes one chunk to dst as the mode says; false means the link
// is dead or dst failed.
func (p *Proxy) deliver(l *link, dst net.Conn, c chunk, down bool) bool {
	if !p.waitOpen(l) {
		return false
	}
	mode, _, _, delay, rate, changed := p.state(l)
	if mode != Slow || !down {
		return write(dst, c.data)
	}
	if wait := time.Until(c.at.Add(delay)); wait > 0 {
		select {
		case <-time.After(wait):
		case <-changed:
		}
		if !p.waitOpen(l) {
			return false
		}
	}
	if rate <= 0 {
		return write(dst, c.data)
	}
	// A trickle: a twentieth of a second's worth at a time.
	step := max(1, rate/20)
	for data := c.data; len(data) > 0; {
		n := min(step, len(data))
		if !write(dst, data[:n]) {
			return false
		}
		data = data[n:]
		if len(data) > 0 {
			time.Sleep(50 * time.Millisecond)
			if _, dead, _, _, _, _ := p.state(l); dead {
				return false
			}
		}
	}
	return true
}

func write(dst net.Conn, data []byte) bool {
	_, err := dst.Write(data)
	return err == nil
}
