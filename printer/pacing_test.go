package printer_test

import (
	"bytes"
	"context"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/printer/raster"
)

// The encoder's spans, which the printer paces by, say of every ticket
// and test page on every profile and in both modes what the parser reads
// from the bytes: each span ends at a command's end and moves the paper
// and cuts as those commands do.
func TestEncodedSpansAgreeWithParser(t *testing.T) {
	t.Parallel()
	tk := benchTicket()
	for _, prof := range profiles.All() {
		for _, mode := range []printer.Mode{printer.TextMode, printer.RasterMode} {
			enc := printer.NewEncoder(prof, mode)
			ticket, err := enc.Ticket(tk)
			if err != nil {
				t.Fatalf("%s %s: %v", prof.Name, mode, err)
			}
			page, err := enc.TestPage(time.Date(2026, 11, 21, 14, 5, 0, 0, time.UTC))
			if err != nil {
				t.Fatalf("%s %s: test page: %v", prof.Name, mode, err)
			}
			for name, job := range map[string]escpos.Job{"ticket": ticket.Job, "test page": page.Job} {
				if err := job.Verify(); err != nil {
					t.Errorf("%s %s %s: %v", prof.Name, mode, name, err)
				}
			}
		}
	}
}

// A full 576-dot raster ticket reaches a printer with a 4 KB buffer on a
// 9600-baud serial line without flow control (the emulator on a pty, taking
// bytes at 960 a second and losing what does not fit) without losing a
// byte, and prints dot for dot what the encoder drew. About half a minute:
// that is how long 30 KB take at 9600 baud.
func TestPacedRasterTicketAt9600Baud(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	tk := exampleTicket("pl")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	emu := newEmulator(t, emulator.Config{Profile: prof, BaudRate: 9600, BufferBytes: 4096, PrintSpeedMM: 50, CutTime: 500 * time.Millisecond})
	pty, err := emu.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	pr := open(t, "serial://"+pty.Path+"?baud=9600", prof, printer.Options{Mode: printer.RasterMode, StatusTimeout: 10 * time.Second}) // generous: the answer is not what is tested, and a loaded machine is slow
	st, err := pr.Print(ctx, tk)
	if err != nil || !st.Ready() {
		t.Fatalf("Print: %v, %v", st, err)
	}
	stats := emu.Stats()
	if stats.Dropped != 0 {
		t.Fatalf("%d of %d bytes lost", stats.Dropped, stats.Received)
	}
	got := waitTickets(t, emu, 1)[0]
	for _, w := range got.Warnings {
		t.Errorf("emulator warning: %s", w)
	}
	_, want := printThrough(t, prof, printer.RasterMode, tk)
	if !bytes.Equal(got.Image.Pix, want.Image.Pix) || got.Image.Rect != want.Image.Rect {
		t.Error("ticket printed over the serial line differs from the ticket drawn in-process")
	}
}

// The model can fail: the same ticket sent as one raster image, not in
// bands, overflows the 4 KB buffer of that printer. The line is simulated
// in virtual time here, as it changes nothing but the wait.
func TestUnbandedRasterOverflows(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	_, drawn := printThrough(t, prof, printer.RasterMode, exampleTicket("pl"))
	bm := raster.Threshold(drawn.Image.SubImage(image.Rect(8, 0, 8+prof.WidthDots, drawn.Image.Rect.Dy())))
	var b escpos.Builder
	b.Init()
	b.Raster(bm.Pix, bm.Stride, bm.H, 0) // no byte budget: bands of 64 lines, 4.6 KB
	b.Cut(true, 48)
	emu := newEmulator(t, emulator.Config{Profile: prof, BufferBytes: 4096, PrintSpeedMM: 50})
	at := time.Now()
	data := b.Bytes()
	for i := 0; i < len(data); i += 16 {
		chunk := data[i:min(i+16, len(data))]
		at = at.Add(time.Duration(len(chunk)) * time.Second / 960)
		emu.Receive(nil, chunk, at)
	}
	emu.Advance(at.Add(time.Minute))
	if emu.Stats().Dropped == 0 {
		t.Fatal("4.6 KB raster bands passed through a 4 KB buffer without loss")
	}
	emu.Flush()
	found := false
	for _, tk := range emu.Tickets() {
		for _, w := range tk.Warnings {
			found = found || strings.Contains(w.Message, "larger than the 4096-byte input buffer")
		}
	}
	if !found {
		t.Error("the emulator did not say why bytes were lost")
	}
}

// On a fast line to a slow printer, pacing is what saves the bytes: at
// 115200 baud the line brings 11.5 KB/s while a printer at 10 mm/s prints
// raster at 5.7 KB/s. Sent at full speed the buffer overflows; paced for
// the printer's speed nothing is lost.
func TestPacingForSlowPrinter(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	img := raster.New(prof.WidthDots, 240)
	for y := 0; y < img.H; y++ {
		for x := (y / 8 % 2) * 8; x < img.W; x += 16 {
			img.Fill(image.Rect(x, y, x+8, y+1))
		}
	}
	var b escpos.Builder
	b.Init()
	b.Raster(img.Pix, img.Stride, img.H, prof.BufferBytes/2)
	b.Cut(true, 24)
	job := b.Job()

	for _, tt := range []struct {
		name      string
		query     string
		wantDrops bool
	}{
		{"full speed", "&pace=off", true},
		{"paced", "&speed=10", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			emu := newEmulator(t, emulator.Config{Profile: prof, BaudRate: 115200, BufferBytes: 4096, PrintSpeedMM: 10})
			pty, err := emu.ServePTY(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer pty.Close()
			pr := open(t, "serial://"+pty.Path+"?baud=115200"+tt.query, prof, printer.Options{})
			if err := pr.Write(ctx, job); err != nil {
				t.Fatal(err)
			}
			for emu.Stats().Received < len(job.Bytes) && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
			}
			if dropped := emu.Stats().Dropped; (dropped > 0) != tt.wantDrops {
				t.Errorf("%d bytes lost of %d; want losses: %v", dropped, len(job.Bytes), tt.wantDrops)
			}
		})
	}
}
