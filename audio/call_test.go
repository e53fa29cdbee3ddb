package audio

import (
	"strings"
	"testing"
)

func TestParseTicket(t *testing.T) {
	tests := []struct {
		ticket  string
		prefix  string
		number  int
		wantErr string
	}{
		{ticket: "A123", prefix: "A", number: 123},
		{ticket: "b7", prefix: "B", number: 7},
		{ticket: "15", prefix: "", number: 15},
		{ticket: "A007", prefix: "A", number: 7},
		{ticket: "AB0", prefix: "AB", number: 0},
		{ticket: " C999 ", prefix: "C", number: 999},
		{ticket: "", wantErr: "ticket is empty"},
		{ticket: "A", wantErr: `ticket "A" has no number`},
		{ticket: "ABCD1", wantErr: "longer than 3 letters"},
		{ticket: "A1000", wantErr: "number 1000 is out of range 0-999"},
		{ticket: "A12B", wantErr: `"B" at position 4 is neither`},
		{ticket: "Ż12", wantErr: `"Ż" at position 1`},
		{ticket: "A-12", wantErr: `"-" at position 2`},
	}
	for _, tt := range tests {
		t.Run(tt.ticket, func(t *testing.T) {
			prefix, number, err := ParseTicket(tt.ticket)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTicket(%q) error = %v, want it to say %q", tt.ticket, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if prefix != tt.prefix || number != tt.number {
				t.Errorf("ParseTicket(%q) = %q, %d; want %q, %d", tt.ticket, prefix, number, tt.prefix, tt.number)
			}
		})
	}
}

func FuzzParseTicket(f *testing.F) {
	for _, s := range []string{"A123", "15", "ABC999", "A1000", "Ż1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prefix, n, err := ParseTicket(s)
		if err != nil {
			return
		}
		if n < 0 || n > MaxNumber || len(prefix) > maxPrefixLetters {
			t.Fatalf("ParseTicket(%q) = %q, %d accepted out of bounds", s, prefix, n)
		}
		for i := 0; i < len(prefix); i++ {
			if prefix[i] < 'A' || prefix[i] > 'Z' {
				t.Fatalf("ParseTicket(%q) prefix %q is not A-Z", s, prefix)
			}
		}
	})
}
