// Package lockedbuf is a bytes.Buffer that one goroutine may write while
// another reads it: a program's log or a command's output that a test
// reads as it comes.
package lockedbuf

import (
	"bytes"
	"sync"
)

// Buffer collects what is written to it; its zero value is empty.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
