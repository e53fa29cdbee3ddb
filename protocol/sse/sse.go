// Package sse is Server-Sent Events framing, both ways: Read parses a
// stream as a device or a test reads it, Writer writes one as the server
// streams events to devices, consoles and e-ticket pages. It knows nothing
// of what the events mean.
package sse

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// Message is one Server-Sent Event as a client reads it.
type Message struct {
	ID    string
	Event string
	Data  []byte
}

// maxMessage bounds one event, so a broken or hostile server cannot make a
// device buffer without end.
const maxMessage = 8 << 20

// Read parses a Server-Sent Events stream and calls fn for each
// event until the stream ends, fn fails, or the stream is malformed.
// Comments (heartbeats) are skipped; "retry" fields are ignored.
func Read(r io.Reader, fn func(Message) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxMessage)
	var m Message
	var data bytes.Buffer
	has := false
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if has {
				m.Data = append([]byte(nil), bytes.TrimSuffix(data.Bytes(), []byte("\n"))...)
				if err := fn(m); err != nil {
					return err
				}
			}
			m, has = Message{}, false
			data.Reset()
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "id":
			m.ID, has = string(value), true
		case "event":
			m.Event, has = string(value), true
		case "data":
			data.Write(value)
			data.WriteByte('\n')
			has = true
		case "retry":
		default:
			return fmt.Errorf("event stream: unknown field %q", field)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading event stream: %w", err)
	}
	return nil
}

// Seq reads a message's id as an event seq.
func (m Message) Seq() (uint64, error) {
	n, err := strconv.ParseUint(m.ID, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("event id %q is not a seq", m.ID)
	}
	return n, nil
}
