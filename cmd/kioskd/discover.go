package main

import (
	"context"

	"github.com/numerek/numerek/protocol/dnssd"
)

// discover finds the queue server on the network by DNS-SD.
func discover(ctx context.Context) (string, error) {
	return dnssd.Find(ctx, dnssd.FindOptions{})
}
