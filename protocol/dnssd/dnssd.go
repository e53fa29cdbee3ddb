// Package dnssd lets a device find the queue server on the office's
// network without being told its address: the server advertises the
// service _numerek._tcp by multicast DNS (RFC 6762, 6763) with the port
// devices reach its API on, and kioskd with [server] url = "mdns" browses
// for it. Where the office's network carries no multicast (many managed
// switches and Wi-Fi do not), the address is written in the device's
// file instead.
package dnssd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/mdns"
)

// Service is the DNS-SD service type of a queue server's device API.
const Service = "_numerek._tcp"

// Advertiser answers the network's questions for the server.
type Advertiser struct {
	server *mdns.Server
}

// AdvertiseOptions say how the server advertises itself.
type AdvertiseOptions struct {
	// Instance names this server among others ("numerek"); default the
	// host's name.
	Instance string
	// Port is where devices reach the API over HTTP.
	Port int
	// IPs are the addresses to advertise; default the machine's
	// addresses on its network cards that are up (not the loopback).
	IPs []net.IP
	// Interface is the network card to answer on; nil: the system's
	// default for multicast.
	Interface *net.Interface
}

// Advertise starts answering for the server until Close.
func Advertise(opts AdvertiseOptions) (*Advertiser, error) {
	if opts.Instance == "" {
		host, err := osHostname()
		if err != nil {
			return nil, err
		}
		opts.Instance = host
	}
	ips := opts.IPs
	if len(ips) == 0 {
		ips = machineIPs()
	}
	if len(ips) == 0 {
		return nil, errors.New("advertising the server: the machine has no network address other than the loopback")
	}
	host := strings.ToLower(opts.Instance) + ".local."
	svc, err := mdns.NewMDNSService(opts.Instance, Service, "", host, opts.Port, ips, []string{"path=/api/v1"})
	if err != nil {
		return nil, fmt.Errorf("advertising the server: %w", err)
	}
	srv, err := mdns.NewServer(&mdns.Config{Zone: svc, Iface: opts.Interface, Logger: quiet()})
	if err != nil {
		return nil, fmt.Errorf("advertising the server by multicast DNS: %w", err)
	}
	return &Advertiser{server: srv}, nil
}

// Close stops answering.
func (a *Advertiser) Close() error { return a.server.Shutdown() }

// FindOptions say how to look for the server.
type FindOptions struct {
	// Wait is how long to ask before giving up: default 3 s.
	Wait time.Duration
	// Instance, when set, takes only the server of that name.
	Instance string
	// Interface is the network card to ask on; nil: the system's default
	// for multicast.
	Interface *net.Interface
}

// Find asks the network for a queue server and returns the address of
// the first that answers ("http://192.168.1.10:8080").
func Find(ctx context.Context, opts FindOptions) (string, error) {
	if opts.Wait <= 0 {
		opts.Wait = 3 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	entries := make(chan *mdns.ServiceEntry, 16)
	done := make(chan error, 1)
	go func() {
		done <- mdns.QueryContext(ctx, &mdns.QueryParam{
			Service: Service, Domain: "local", Timeout: opts.Wait, Interface: opts.Interface,
			Entries: entries, DisableIPv6: true, Logger: quiet(),
		})
	}()
	for {
		select {
		case e := <-entries:
			if u := entryURL(e, opts.Instance); u != "" {
				return u, nil
			}
		case err := <-done:
			if err != nil {
				return "", fmt.Errorf("looking for the queue server by multicast DNS: %w", err)
			}
			return "", fmt.Errorf("no queue server (%s) answered on the network within %v", Service, opts.Wait)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// entryURL is the API's address an answer gives, or "" when it is not a
// usable answer (another instance, no address, no port).
func entryURL(e *mdns.ServiceEntry, instance string) string {
	if e == nil || e.Port <= 0 || e.Port > 65535 || e.AddrV4 == nil {
		return ""
	}
	if instance != "" && !strings.HasPrefix(e.Name, instance+"."+Service+".") {
		return ""
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(e.AddrV4.String(), strconv.Itoa(e.Port))}
	return u.String()
}

// machineIPs are the IPv4 addresses of the network cards that are up and
// can multicast.
func machineIPs() []net.IP {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var ips []net.IP
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 || i.Flags&net.FlagMulticast == 0 {
			continue
		}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				ips = append(ips, n.IP.To4())
			}
		}
	}
	return ips
}

// quiet is the library's logger: its notes of stray packets are noise in
// kioskd's log.
func quiet() *log.Logger { return log.New(io.Discard, "", 0) }
