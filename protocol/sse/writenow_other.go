//go:build !unix

package sse

import (
	"net"
	"syscall"
)

// writeNow takes nothing where a write without waiting is not at hand:
// the stream's own goroutine writes it all (Writer.Flush).
func writeNow(syscall.RawConn, net.Buffers) (int, error) { return 0, nil }
