package dnssd

import (
	"fmt"
	"os"
	"strings"
)

// osHostname is the host's name as a DNS label.
func osHostname() (string, error) {
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("advertising the server: the host's name: %w", err)
	}
	h, _, _ = strings.Cut(h, ".")
	return h, nil
}
