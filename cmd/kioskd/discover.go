package main

import (
	"context"
	"errors"
	"log/slog"
)

// discover finds the queue server on the network by DNS-SD.
func discover(ctx context.Context, log *slog.Logger) (string, error) {
	return "", errors.New("not yet")
}
