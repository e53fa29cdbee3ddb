package dnssd

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// The server advertised on the machine's network card is found, with its
// port, by a device asking on the same card (multicast loops back to the
// sender's host).
func TestAdvertisedServerIsFound(t *testing.T) {
	ips := machineIPs()
	if len(ips) == 0 {
		t.Skip("no network card that can multicast: nothing to advertise on")
	}
	instance := fmt.Sprintf("numerek-test-%d", os.Getpid())
	a, err := Advertise(AdvertiseOptions{Instance: instance, Port: 48080, IPs: ips[:1]})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := Find(ctx, FindOptions{Instance: instance, Wait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://" + net.JoinHostPort(ips[0].String(), "48080"); got != want {
		t.Errorf("found %s, want %s", got, want)
	}

	// Another instance's name is not this server.
	if got, err := Find(ctx, FindOptions{Instance: instance + "-other", Wait: time.Second}); err == nil || !strings.Contains(err.Error(), "no queue server") {
		t.Errorf("looking for another instance: %q, %v; want none found", got, err)
	}
}
