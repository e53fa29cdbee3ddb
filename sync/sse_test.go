package sync

import (
	"errors"
	"strings"
	"testing"
)

func TestReadMessages(t *testing.T) {
	stream := ": heartbeat\n\nid: 7\nevent: TicketCalled\ndata: {\"a\":1}\n\nretry: 2000\n\nid: 8\nevent: snapshot\ndata: line1\ndata: line2\n\n"
	var got []Message
	err := ReadMessages(strings.NewReader(stream), func(m Message) error { got = append(got, m); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "7" || got[0].Event != "TicketCalled" || string(got[0].Data) != `{"a":1}` {
		t.Fatalf("got %+v", got)
	}
	if string(got[1].Data) != "line1\nline2" {
		t.Errorf("multi-line data %q", got[1].Data)
	}
	if seq, err := got[1].Seq(); err != nil || seq != 8 {
		t.Errorf("Seq = %d, %v", seq, err)
	}
	stop := errors.New("stop")
	if err := ReadMessages(strings.NewReader(stream), func(Message) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error not returned: %v", err)
	}
	if err := ReadMessages(strings.NewReader("bogus: x\n\n"), func(Message) error { return nil }); err == nil {
		t.Errorf("an unknown field was accepted")
	}
}

// FuzzReadMessages: the stream comes from the network; parsing must never
// panic, and every message it yields has its fields from the input.
func FuzzReadMessages(f *testing.F) {
	f.Add("id: 1\nevent: x\ndata: {}\n\n")
	f.Add(": c\n\ndata: a\ndata: b\n\n")
	f.Add("id:5\r\ndata:\r\n\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		_ = ReadMessages(strings.NewReader(s), func(m Message) error {
			if !strings.Contains(s, m.ID) || !strings.Contains(s, m.Event) {
				t.Fatalf("message %+v not from the input", m)
			}
			return nil
		})
	})
}
