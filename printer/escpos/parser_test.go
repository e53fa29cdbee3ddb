package escpos

import "testing"

// The parser cuts commands whole, whatever their length fields say.
func TestParse(t *testing.T) {
	data := []byte{
		ESC, '@',
		GS, 'v', '0', 0, 2, 0, 3, 0, 1, 2, 3, 4, 5, 6,
		GS, '(', 'k', 3, 0, 49, 67, 6,
		'H', 'i', '\n',
		GS, 'V', 66, 10,
		DLE, EOT, 1,
	}
	want := []string{"ESC @", "GS v 0", "GS ( k", "text", "text", "LF", "GS V", "DLE EOT"}
	cmds := Parse(data)
	if len(cmds) != len(want) {
		t.Fatalf("%d commands %v, want %v", len(cmds), cmds, want)
	}
	for i, c := range cmds {
		if c.Name != want[i] || !c.Known {
			t.Errorf("command %d = %s (known %v), want %s", i, c.Name, c.Known, want[i])
		}
	}
	if cut := Parse([]byte{GS, 'v', '0', 0, 10, 0, 10, 0, 1}); len(cut) != 1 || cut[0].Known {
		t.Errorf("a raster cut short is not reported: %+v", cut)
	}
}

// FuzzParse feeds the parser arbitrary bytes: it must never panic, must
// account for every byte, in order, and the motion of what it cuts must
// never be negative.
func FuzzParse(f *testing.F) {
	for _, job := range SampleJobs() {
		f.Add(job)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		total := 0
		var feeds Feeds
		for _, c := range Parse(data) {
			if c.Offset != total {
				t.Fatalf("command %s at offset %d, want %d", c.Name, c.Offset, total)
			}
			total += len(c.Bytes)
			if dots, _ := feeds.Motion(c); dots < 0 {
				t.Fatalf("%s moves the paper %d dots", c.Name, dots)
			}
		}
		if total != len(data) {
			t.Fatalf("parser accounts for %d of %d bytes", total, len(data))
		}
	})
}

// Feeds knows the line spacing a stream sets: a line feed after ESC 3 24
// moves 24 dots, after ESC 2 or ESC @ the default 30 again.
func TestFeedsFollowLineSpacing(t *testing.T) {
	var b Builder
	b.LF()
	b.LineSpacing(24)
	b.BitImage(BitImage24Double, make([]byte, 3))
	b.LF()
	b.FeedLines(2)
	b.DefaultLineSpacing()
	b.LF()
	b.LineSpacing(0)
	b.LF()
	b.Init()
	b.LF()
	var f Feeds
	var moves []int
	for _, c := range Parse(b.Bytes()) {
		if dots, _ := f.Motion(c); dots > 0 || c.Name == "LF" {
			moves = append(moves, dots)
		}
	}
	want := []int{30, 24, 48, 30, 0, 30}
	if len(moves) != len(want) {
		t.Fatalf("moves %v, want %v", moves, want)
	}
	for i := range want {
		if moves[i] != want[i] {
			t.Errorf("moves %v, want %v", moves, want)
			break
		}
	}
}
