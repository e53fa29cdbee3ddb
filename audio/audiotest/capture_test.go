package audiotest

import (
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	f := func(v ...int16) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x) / 32768
		}
		return out
	}
	want := []int16{0, 5, 6, 0, 7}
	tests := []struct {
		name         string
		got          []float32
		end, inserts int
		err          string
	}{
		{"exact after silence", f(0, 0, 0, 5, 6, 0, 7, 0), 7, 0, ""},
		{"dropouts inside", f(5, 0, 0, 6, 0, 0, 7), 7, 3, ""},
		{"sample altered", f(5, 6, 0, 8), 0, 0, "wanted sample 4 = "},
		{"sound lost", f(5, 7), 0, 0, "wanted sample 2"},
		{"capture too short", f(5, 6, 0), 0, 0, "the capture ends at sample 4 of 5"},
		{"nothing captured", f(0, 0), 0, 0, "no sound in the capture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end, inserted, err := Find(tt.got, 0, want)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to say %q", err, tt.err)
				}
				return
			}
			if err != nil || end != tt.end || inserted != tt.inserts {
				t.Errorf("Find = %d, %d, %v; want %d, %d", end, inserted, err, tt.end, tt.inserts)
			}
		})
	}
}
