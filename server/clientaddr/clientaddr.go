// Package clientaddr tells who is asking: the address of the client a
// request came from, and whether it reached the office over HTTPS.
//
// A reverse proxy (nginx, a load balancer) hides the client behind its own
// address and says who it was in X-Forwarded-For/X-Forwarded-Proto or
// Forwarded (RFC 7239). Anyone can send those headers, so they
// are believed only from a peer in the office's trusted_proxies, and the
// chain they describe is walked from the right (the hop nearest the server)
// past the trusted proxies to the first address that is not one: the
// client. Everything keyed on a client's address (limits, the logs of
// refused logins) takes it from here, once per request.
package clientaddr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Client is who a request came from.
type Client struct {
	// Addr is the client's IP address without a port, or, when the
	// connection's own address is not an IP (a test's pipe), that address.
	Addr string
	// HTTPS is whether the client's request reached the office encrypted:
	// over TLS to this server, or to a trusted proxy that says so.
	HTTPS bool
}

// Resolver works out the Client of requests, believing only the trusted
// proxies.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a resolver trusting the proxies in the given networks; none
// trusts no forwarding header at all.
func New(trusted []netip.Prefix) *Resolver {
	return &Resolver{trusted: trusted}
}

// ParseTrusted reads trusted_proxies: CIDRs such as "10.0.0.0/8" or
// "2001:db8::/32", or single addresses (a /32 or /128).
func ParseTrusted(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for i, c := range cidrs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			a, aerr := netip.ParseAddr(strings.TrimSpace(c))
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("[%d] %q is not a network like \"10.0.0.0/8\" or an address like \"192.0.2.7\"", i, c)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Masked() != p {
			return nil, fmt.Errorf("[%d] %q has bits set past its /%d: did you mean %q?", i, c, p.Bits(), p.Masked().String())
		}
		out = append(out, netip.PrefixFrom(p.Addr().Unmap(), unmappedBits(p)))
	}
	return out, nil
}

// unmappedBits is the prefix length of p once an IPv4-mapped IPv6 network
// (::ffff:10.0.0.0/104) is written as IPv4 (10.0.0.0/8).
func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return max(p.Bits()-96, 0)
	}
	return p.Bits()
}

func (rs *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range rs.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve works out who r came from.
func (rs *Resolver) Resolve(r *http.Request) Client {
	direct := Client{Addr: peerHost(r.RemoteAddr), HTTPS: r.TLS != nil}
	peer, ok := parseNode(r.RemoteAddr)
	if !ok {
		return direct
	}
	direct.Addr = peer.String()
	if !rs.isTrusted(peer) {
		return direct
	}
	// X-Forwarded-For is read first: nearly every proxy sets it, and few
	// remove a Forwarded header a client sent, which would otherwise name
	// any address the client liked.
	hops := xForwardedHops(r.Header)
	if len(hops) == 0 {
		hops = forwardedHops(r.Header)
	}
	client := direct
	addr := peer
	for i := len(hops) - 1; i >= 0 && rs.isTrusted(addr); i-- {
		next, ok := parseNode(hops[i].node)
		if !ok {
			// "unknown", an obfuscated name or garbage: the hop before the
			// trusted proxy cannot be told, so the proxy is the client.
			break
		}
		addr = next
		client = Client{Addr: next.String(), HTTPS: direct.HTTPS}
		if hops[i].proto != "" {
			client.HTTPS = strings.EqualFold(hops[i].proto, "https")
		}
	}
	return client
}

type contextKey struct{}

// Attach resolves r's client once and returns r carrying it, for From and
// HTTPS.
func (rs *Resolver) Attach(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), contextKey{}, rs.Resolve(r)))
}

// Middleware attaches the client to every request before next sees it.
func (rs *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, rs.Attach(r))
	})
}

// Of returns r's client as Attach found it; a request that passed no
// resolver is taken at its connection's word.
func Of(r *http.Request) Client {
	if c, ok := r.Context().Value(contextKey{}).(Client); ok {
		return c
	}
	return New(nil).Resolve(r)
}

// From is the client's address of r (see Client.Addr).
func From(r *http.Request) string { return Of(r).Addr }

// HTTPS reports whether r reached the office encrypted (see Client.HTTPS).
func HTTPS(r *http.Request) bool { return Of(r).HTTPS }

// peerHost is a connection's address without its port.
func peerHost(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

// parseNode reads one address as headers and connections write it: "IPv4",
// "IPv4:port", "[IPv6]", "[IPv6]:port", a bare "IPv6" (X-Forwarded-For
// often has those), quoted or not. The port may be anything (RFC 7239
// allows obfuscated ports); the address must be a real one.
func parseNode(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	host := s
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" && !strings.HasPrefix(rest, ":") {
			return netip.Addr{}, false
		}
	} else if strings.Count(s, ":") == 1 {
		host = s[:strings.IndexByte(s, ':')]
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || !a.IsValid() {
		return netip.Addr{}, false
	}
	if strings.HasPrefix(s, "[") && a.Is4() {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// hop is what one proxy said about the connection it received.
type hop struct {
	node  string
	proto string
}

// xForwardedHops reads X-Forwarded-For (every line, comma separated) and
// pairs each entry with X-Forwarded-Proto's entry at the same place when
// the lists are as long, or else gives the last one (set by the proxy
// nearest the server) to the nearest hop.
func xForwardedHops(h http.Header) []hop {
	var nodes, protos []string
	for _, line := range h.Values("X-Forwarded-For") {
		for _, n := range strings.Split(line, ",") {
			nodes = append(nodes, strings.TrimSpace(n))
		}
	}
	for _, line := range h.Values("X-Forwarded-Proto") {
		for _, p := range strings.Split(line, ",") {
			protos = append(protos, strings.TrimSpace(p))
		}
	}
	hops := make([]hop, len(nodes))
	for i, n := range nodes {
		hops[i].node = n
		if len(protos) == len(nodes) {
			hops[i].proto = protos[i]
		}
	}
	if len(hops) > 0 && len(protos) > 0 && len(protos) != len(nodes) {
		hops[len(hops)-1].proto = protos[len(protos)-1]
	}
	return hops
}

// forwardedHops reads the Forwarded header (RFC 7239): elements separated
// by commas, pairs by semicolons, values tokens or quoted strings (which may
// hold commas and semicolons).
func forwardedHops(h http.Header) []hop {
	var hops []hop
	for _, line := range h.Values("Forwarded") {
		for _, element := range splitQuoted(line, ',') {
			var hp hop
			for _, pair := range splitQuoted(element, ';') {
				name, value, found := strings.Cut(pair, "=")
				if !found {
					continue
				}
				value = unquote(strings.TrimSpace(value))
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "for":
					hp.node = value
				case "proto":
					hp.proto = value
				}
			}
			hops = append(hops, hp)
		}
	}
	return hops
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var parts []string
	start, quoted, escaped := 0, false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unquote undoes a quoted-string's quotes and backslash escapes.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
