//go:build unix

package sse

import (
	"errors"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeNow writes b to the connection in one writev without waiting for
// it to take more: it returns how many bytes it took, 0 when its buffer
// is full.
func writeNow(raw syscall.RawConn, b net.Buffers) (int, error) {
	var n int
	var werr error
	err := raw.Write(func(fd uintptr) bool {
		n, werr = unix.Writev(int(fd), b)
		return true // done, whatever it took: never wait
	})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil // the stream's goroutine has not written for a while: Flush moves it on
	case err != nil:
		return 0, err
	case werr == unix.EAGAIN || werr == unix.EINTR:
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return n, nil
}
