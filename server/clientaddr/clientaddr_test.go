package clientaddr

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func mustTrusted(t testing.TB, cidrs ...string) *Resolver {
	t.Helper()
	p, err := ParseTrusted(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return New(p)
}

func TestResolve(t *testing.T) {
	rs := mustTrusted(t, "10.0.0.0/8", "192.0.2.7/32", "2001:db8:ffff::/48")
	tests := []struct {
		name    string
		peer    string
		tls     bool
		headers map[string][]string
		want    Client
	}{
		{name: "no proxy", peer: "198.51.100.4:5000", want: Client{Addr: "198.51.100.4"}},
		{name: "over TLS", peer: "198.51.100.4:5000", tls: true, want: Client{Addr: "198.51.100.4", HTTPS: true}},
		{name: "spoofed X-Forwarded-For from an untrusted peer is ignored", peer: "198.51.100.4:5000",
			headers: map[string][]string{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"https"}},
			want:    Client{Addr: "198.51.100.4"}},
		{name: "spoofed Forwarded from an untrusted peer is ignored", peer: "198.51.100.4:5000",
			headers: map[string][]string{"Forwarded": {"for=203.0.113.9;proto=https"}},
			want:    Client{Addr: "198.51.100.4"}},
		{name: "trusted proxy, X-Forwarded-For", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"https"}},
			want:    Client{Addr: "203.0.113.9", HTTPS: true}},
		{name: "trusted proxy, client's own spoofed entry on the left is passed over", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {"1.1.1.1, 203.0.113.9"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "two trusted hops are skipped", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {"1.1.1.1, 203.0.113.9, 192.0.2.7"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "X-Forwarded-For over several lines", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {"1.1.1.1", "203.0.113.9, 10.9.9.9"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "X-Forwarded-For with a port", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {"203.0.113.9:51234"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "bare IPv6 in X-Forwarded-For", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {"2001:db8:1::7"}},
			want:    Client{Addr: "2001:db8:1::7"}},
		{name: "IPv6 proxy", peer: "[2001:db8:ffff::1]:443",
			headers: map[string][]string{"X-Forwarded-For": {"[2001:db8:1::7]:1234"}, "X-Forwarded-Proto": {"http"}},
			want:    Client{Addr: "2001:db8:1::7"}},
		{name: "IPv4-mapped peer counts as IPv4", peer: "[::ffff:10.1.2.3]:40000",
			headers: map[string][]string{"X-Forwarded-For": {"203.0.113.9"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "X-Forwarded-For wins over a Forwarded the proxy passed on", peer: "10.1.2.3:40000",
			headers: map[string][]string{"Forwarded": {`for=1.1.1.1;proto=https`}, "X-Forwarded-For": {"203.0.113.9"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "Forwarded alone", peer: "10.1.2.3:40000",
			headers: map[string][]string{"Forwarded": {`for=203.0.113.9;proto=https`}},
			want:    Client{Addr: "203.0.113.9", HTTPS: true}},
		{name: "Forwarded with quoted IPv6 and port", peer: "10.1.2.3:40000",
			headers: map[string][]string{"Forwarded": {`For="[2001:db8:cafe::17]:4711";proto=https;by=10.1.2.3`}},
			want:    Client{Addr: "2001:db8:cafe::17", HTTPS: true}},
		{name: "Forwarded chain walked from the right", peer: "10.1.2.3:40000",
			headers: map[string][]string{"Forwarded": {`for=1.1.1.1;proto=https, for=203.0.113.9;proto=http`, `for=10.0.0.5;proto=https`}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "Forwarded quoted value holding a comma", peer: "10.1.2.3:40000",
			headers: map[string][]string{"Forwarded": {`for=203.0.113.9;host="a,b";proto=https`}},
			want:    Client{Addr: "203.0.113.9", HTTPS: true}},
		{name: "obfuscated identifier stops at the proxy", peer: "10.1.2.3:40000",
			headers: map[string][]string{"Forwarded": {`for=_hidden;proto=https`}},
			want:    Client{Addr: "10.1.2.3"}},
		{name: "unknown stops at the proxy", peer: "10.1.2.3:40000",
			headers: map[string][]string{"Forwarded": {`for=unknown`}},
			want:    Client{Addr: "10.1.2.3"}},
		{name: "obfuscated port is fine", peer: "10.1.2.3:40000",
			headers: map[string][]string{"Forwarded": {`for="203.0.113.9:_p1"`}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "garbage stops at the proxy", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {"1.1.1.1, not-an-address"}},
			want:    Client{Addr: "10.1.2.3"}},
		{name: "empty X-Forwarded-For", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {""}},
			want:    Client{Addr: "10.1.2.3"}},
		{name: "zone in an address is refused", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {"fe80::1%eth0"}},
			want:    Client{Addr: "10.1.2.3"}},
		{name: "IPv4 in brackets is refused", peer: "10.1.2.3:40000",
			headers: map[string][]string{"Forwarded": {`for="[203.0.113.9]"`}},
			want:    Client{Addr: "10.1.2.3"}},
		{name: "proto list as long as the chain", peer: "10.1.2.3:40000",
			headers: map[string][]string{"X-Forwarded-For": {"203.0.113.9, 10.0.0.5"}, "X-Forwarded-Proto": {"https, http"}},
			want:    Client{Addr: "203.0.113.9", HTTPS: true}},
		{name: "a trusted proxy saying http over TLS is believed", peer: "10.1.2.3:40000", tls: true,
			headers: map[string][]string{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"http"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "peer that is no IP", peer: "pipe", want: Client{Addr: "pipe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, vs := range tt.headers {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			if got := rs.Resolve(r); got != tt.want {
				t.Errorf("Resolve = %+v, want %+v", got, tt.want)
			}
			if got := From(rs.Attach(r)); got != tt.want.Addr {
				t.Errorf("From after Attach = %q, want %q", got, tt.want.Addr)
			}
		})
	}
}

func TestFromWithoutResolverTakesThePeer(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:40000"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if got := From(r); got != "10.1.2.3" {
		t.Errorf("From = %q, want the peer 10.1.2.3", got)
	}
}

func TestParseTrusted(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: " 192.0.2.7/32 ", want: "192.0.2.7/32"},
		{in: "192.0.2.7", want: "192.0.2.7/32"},
		{in: "2001:db8::/32", want: "2001:db8::/32"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "10.0.0.1/8", wantErr: `did you mean "10.0.0.0/8"`},
		{in: "10.0.0.0/33", wantErr: "is not a network"},
		{in: "proxy.example.pl", wantErr: "is not a network"},
		{in: "", wantErr: "is not a network"},
	}
	for _, tt := range tests {
		got, err := ParseTrusted([]string{tt.in})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTrusted(%q) error = %v, want it to say %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != 1 || got[0].String() != tt.want {
			t.Errorf("ParseTrusted(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// FuzzResolve feeds forwarding headers of any shape: the resolver must
// not panic, must answer a real address whenever it leaves the peer, and
// must never take an untrusted peer's word.
func FuzzResolve(f *testing.F) {
	seeds := []struct{ peer, forwarded, xff, proto string }{
		{"10.1.2.3:1", `for=203.0.113.9;proto=https`, "", ""},
		{"10.1.2.3:1", `For="[2001:db8:cafe::17]:4711", for=_hidden`, "", ""},
		{"10.1.2.3:1", `for="\"quoted\\"`, "", ""},
		{"10.1.2.3:1", "", "1.1.1.1, 203.0.113.9, 10.0.0.5", "https, http"},
		{"198.51.100.4:9", "for=1.2.3.4", "5.6.7.8", "https"},
		{"[2001:db8:ffff::1]:443", "", "[::1]:80, fe80::1%eth0", ""},
		{"pipe", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.peer, s.forwarded, s.xff, s.proto)
	}
	rs := mustTrusted(f, "10.0.0.0/8", "2001:db8:ffff::/48")
	f.Fuzz(func(t *testing.T, peer, forwarded, xff, proto string) {
		r := &http.Request{RemoteAddr: peer, Header: http.Header{}}
		if forwarded != "" {
			r.Header.Set("Forwarded", forwarded)
		}
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		r.Header.Set("X-Forwarded-Proto", proto)
		got := rs.Resolve(r)
		direct := New(nil).Resolve(r)
		if direct.HTTPS {
			t.Fatalf("a plain connection with no trusted proxy was taken as HTTPS: %+v", direct)
		}
		p, err := netip.ParseAddrPort(peer)
		if err != nil || !rs.isTrusted(p.Addr().Unmap()) {
			if got != direct {
				t.Fatalf("untrusted peer %q: got %+v, want the peer's own %+v", peer, got, direct)
			}
			return
		}
		if got != direct {
			if _, err := netip.ParseAddr(got.Addr); err != nil {
				t.Fatalf("resolved %q, not an address: %v", got.Addr, err)
			}
		}
	})
}
