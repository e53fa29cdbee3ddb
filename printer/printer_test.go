package printer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/printer/ticketfmt"
)

func exampleTicket(lang string) printer.Ticket {
	return ticketfmt.Compose(i18n.Messages(), ticketfmt.Example(lang))
}

func lookup(t testing.TB, name string) profiles.Profile {
	t.Helper()
	p, err := profiles.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newEmulator(t testing.TB, cfg emulator.Config) *emulator.Printer {
	t.Helper()
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return emu
}

func open(t testing.TB, uri string, p profiles.Profile, opts printer.Options) *printer.Printer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pr, err := printer.Open(ctx, uri, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	return pr
}

// waitTickets waits until the emulator has printed n tickets.
func waitTickets(t testing.TB, emu *emulator.Printer, n int) []emulator.Ticket {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := emu.Tickets(); len(got) >= n {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("emulator printed %d tickets, want %d", len(emu.Tickets()), n)
	return nil
}

// checkPrinted asserts the emulator's ticket says what tk says and its QR
// code reads back.
func checkPrinted(t *testing.T, got emulator.Ticket, tk printer.Ticket) {
	t.Helper()
	for _, w := range got.Warnings {
		t.Errorf("emulator warning: %s", w)
	}
	text := flat(got.Text())
	for _, want := range []string{tk.Office, tk.Number, tk.Ahead, tk.Issued} {
		if !strings.Contains(text, flat(want)) {
			t.Errorf("printed text lacks %q:\n%s", want, got.Text())
		}
	}
	if qr := decodeQR(t, got.Image); qr != tk.QRURL {
		t.Errorf("QR code reads %q, want %q", qr, tk.QRURL)
	}
}

// A ticket reaches the emulator through every transport, real bytes on a
// real TCP socket and a real pseudo-terminal, and prints whole.
func TestTransports(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	tk := exampleTicket("pl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	t.Run("tcp", func(t *testing.T) {
		emu := newEmulator(t, emulator.Config{Profile: prof})
		srv, err := emu.ListenTCP(ctx, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		pr := open(t, "tcp://"+srv.Addr(), prof, printer.Options{})
		st, err := pr.Print(ctx, tk)
		if err != nil || !st.Ready() {
			t.Fatalf("Print: %v, %v", st, err)
		}
		checkPrinted(t, waitTickets(t, emu, 1)[0], tk)
	})
	for _, scheme := range []string{"serial", "usb"} {
		t.Run(scheme+"-pty", func(t *testing.T) {
			emu := newEmulator(t, emulator.Config{Profile: prof})
			pty, err := emu.ServePTY(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer pty.Close()
			uri := scheme + "://" + pty.Path
			if scheme == "serial" {
				uri += "?baud=115200"
			}
			pr := open(t, uri, prof, printer.Options{})
			st, err := pr.Print(ctx, tk)
			if err != nil || !st.Ready() {
				t.Fatalf("Print: %v, %v", st, err)
			}
			checkPrinted(t, waitTickets(t, emu, 1)[0], tk)
		})
	}
	t.Run("emulator", func(t *testing.T) {
		dir := t.TempDir()
		pr := open(t, "emulator://"+dir, prof, printer.Options{Transports: emulator.Register(printer.Builtin())})
		st, err := pr.Print(ctx, tk)
		if err != nil || !st.Ready() {
			t.Fatalf("Print: %v, %v", st, err)
		}
		f, err := os.Open(filepath.Join(dir, "ticket-0001.png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if qr := decodeQR(t, img); qr != tk.QRURL {
			t.Errorf("PNG's QR code reads %q", qr)
		}
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out.bin")
		os.WriteFile(path, []byte("before;"), 0o644)
		pr := open(t, "file://"+path, prof, printer.Options{})
		st, err := pr.Print(ctx, tk)
		if err != nil || !st.Has(printer.NoStatus) || !st.Ready() {
			t.Fatalf("Print to a file: %v, %v; want status unknown, no error", st, err)
		}
		enc, _ := printer.NewEncoder(prof, printer.TextMode).Ticket(tk)
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, append([]byte("before;"), enc.Bytes...)) {
			t.Errorf("file holds %d bytes, want the %d before plus the ticket's %d, appended", len(got), len("before;"), len(enc.Bytes))
		}
	})
}

// Faults set on the emulated printer come back as conditions the kiosk can
// act on, and a printer that is not ready is not sent the ticket.
func TestStatusAndFaults(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	tk := exampleTicket("en")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu := newEmulator(t, emulator.Config{Profile: prof, PaperTickets: 2, NearEndTickets: 1})
	srv, err := emu.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pr := open(t, "tcp://"+srv.Addr(), prof, printer.Options{StatusTimeout: 300 * time.Millisecond})

	st, err := pr.Status(ctx)
	if err != nil || st.Conditions != 0 {
		t.Fatalf("fresh printer: %v, %v; want ready", st, err)
	}

	emu.SetCoverOpen(true)
	before := emu.Stats().Received
	st, err = pr.Print(ctx, tk)
	var se *printer.StatusError
	if !errors.As(err, &se) || !se.Status.Has(printer.CoverOpen) || st.Ready() {
		t.Fatalf("print with the cover open: %v, %v; want a StatusError with cover open", st, err)
	}
	if n, sent := len(emu.Tickets()), emu.Stats().Received-before; n != 0 || sent != 12 {
		t.Fatalf("ticket sent to a printer with its cover open (%d tickets, %d bytes; want only the 12 of four status requests)", n, sent)
	}
	emu.SetCoverOpen(false)

	st, err = pr.Print(ctx, tk)
	if err != nil || !st.Has(printer.PaperNearEnd) || !st.Ready() {
		t.Fatalf("first ticket of two: %v, %v; want ready with paper near end", st, err)
	}
	// The roll ends with this ticket: the printer stops before it can
	// confirm the end of the job, so Print cannot promise it came out whole.
	st, err = pr.Print(ctx, tk)
	if !errors.As(err, &se) || !st.Has(printer.PaperOut) {
		t.Fatalf("last ticket of the roll: %v, %v; want a StatusError with paper out", st, err)
	}
	if n := len(emu.Tickets()); n != 2 {
		t.Fatalf("emulator printed %d tickets, want 2", n)
	}
	_, err = pr.Print(ctx, tk)
	if !errors.As(err, &se) || !se.Status.Has(printer.PaperOut) || !errors.Is(err, printer.ErrNotReady) {
		t.Fatalf("print with no paper: %v; want a StatusError with paper out", err)
	}
	emu.LoadPaper(0)

	emu.JamCutter()
	st, err = pr.Print(ctx, tk)
	if !errors.As(err, &se) || !st.Has(printer.CutterError) {
		t.Fatalf("print with a jammed cutter: %v, %v; want cutter error", st, err)
	}
	if err := pr.Write(ctx, escpos.Job{Bytes: []byte{escpos.DLE, escpos.ENQ, 2}}); err != nil {
		t.Fatal(err)
	}

	emu.SetSilent(true)
	start := time.Now()
	st, err = pr.Status(ctx)
	if err == nil || !st.Has(printer.NotAnswering) || st.Ready() {
		t.Fatalf("silent printer: %v, %v; want not answering", st, err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("took %v to give up on a silent printer with a 300 ms timeout", waited)
	}
	emu.SetSilent(false)
	if st, err := pr.Status(ctx); err != nil || !st.Ready() {
		t.Fatalf("printer answering again: %v, %v", st, err)
	}
	st, err = pr.Print(ctx, tk)
	if err != nil || !st.Ready() {
		t.Fatalf("print after every fault is cleared: %v, %v", st, err)
	}
	got := emu.Tickets()
	// Two full tickets, the one the cutter could not cut (torn off by the
	// next job) and the last.
	if len(got) != 4 || got[2].Cut != emulator.NoCut || got[3].Cut != emulator.PartialCut {
		t.Fatalf("emulator printed %d tickets, want 4 with the third uncut", len(got))
	}
	checkPrinted(t, got[3], tk)
}

// A ticket reads the printer's status twice: once before (can it print?
// DLE EOT 1) and once after the cut (did it? GS r, answered when all is
// printed), on every transport with a way back.
func TestTicketReadsStatusTwice(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu := newEmulator(t, emulator.Config{Profile: prof, PaperTickets: 3, NearEndTickets: 1})
	srv, err := emu.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pr := open(t, "tcp://"+srv.Addr(), prof, printer.Options{})
	for i, wantNearEnd := range []bool{false, true} {
		before := emu.Stats().StatusRequests
		st, err := pr.Print(ctx, exampleTicket("pl"))
		if err != nil || !st.Ready() || st.Has(printer.PaperNearEnd) != wantNearEnd {
			t.Fatalf("ticket %d: %v, %v; want ready, paper near end %v", i+1, st, err, wantNearEnd)
		}
		if n := emu.Stats().StatusRequests - before; n != 2 {
			t.Errorf("ticket %d: %d status requests, want 2", i+1, n)
		}
	}
	if n := len(waitTickets(t, emu, 2)); n != 2 {
		t.Errorf("printed %d tickets, want 2", n)
	}
}

// A roll that runs out in the middle of a ticket stops the printer there:
// the ticket is reported as not printed, with paper out, and the next
// one is not sent.
func TestPaperOutMidTicket(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	tk := exampleTicket("en")
	enc, err := printer.NewEncoder(prof, printer.TextMode).Ticket(tk)
	if err != nil {
		t.Fatal(err)
	}
	length := 0
	for _, sp := range enc.Spans {
		length += sp.Dots
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu := newEmulator(t, emulator.Config{Profile: prof, PaperDots: length / 2})
	srv, err := emu.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pr := open(t, "tcp://"+srv.Addr(), prof, printer.Options{StatusTimeout: 300 * time.Millisecond})
	st, err := pr.Print(ctx, tk)
	var se *printer.StatusError
	if !errors.As(err, &se) || !st.Has(printer.PaperOut) || st.Ready() {
		t.Fatalf("paper out mid-ticket: %v, %v; want a StatusError with paper out", st, err)
	}
	if n := emu.Stats().Printed; n != 0 {
		t.Errorf("the emulator finished %d tickets, want none", n)
	}
	received := emu.Stats().Received
	if _, err := pr.Print(ctx, tk); !errors.As(err, &se) || !se.Status.Has(printer.PaperOut) {
		t.Fatalf("next ticket with no paper: %v; want a StatusError with paper out", err)
	}
	if sent := emu.Stats().Received - received; sent != 12 {
		t.Errorf("%d bytes sent to a printer with no paper; want only the 12 of four status requests", sent)
	}
}

// A network printer unplugged in the middle of a ticket is reported as
// disconnected; the next ticket reconnects and prints.
func TestUnplugMidTicketAndReconnect(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A slow printer, so the ticket is still being sent when the cable goes.
	emu := newEmulator(t, emulator.Config{Profile: prof, BufferBytes: 4096, PrintSpeedMM: 40})
	srv, err := emu.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pr := open(t, "tcp://"+srv.Addr()+"?speed=40", prof, printer.Options{Mode: printer.RasterMode})
	go func() {
		for emu.Stats().Received < 6000 {
			time.Sleep(5 * time.Millisecond)
		}
		srv.DropConnections()
	}()
	st, err := pr.Print(ctx, exampleTicket("pl"))
	if err == nil || !st.Has(printer.Disconnected) || !strings.Contains(err.Error(), "line failed") {
		t.Fatalf("unplugged mid-ticket: %v, %v; want disconnected, line failed", st, err)
	}
	before := emu.Stats().Received
	tk := exampleTicket("uk")
	st, err = pr.Print(ctx, tk)
	if err != nil || !st.Ready() {
		t.Fatalf("next ticket after reconnecting: %v, %v", st, err)
	}
	if emu.Stats().Received == before {
		t.Fatal("nothing sent after reconnecting")
	}
	got := waitTickets(t, emu, 2)
	last := got[len(got)-1]
	if last.Cut != emulator.PartialCut || last.Rasters == 0 {
		t.Errorf("ticket after reconnecting: cut %v, %d rasters; want a whole drawn ticket", last.Cut, last.Rasters)
	}
	if qr := decodeQR(t, last.Image); qr != tk.QRURL {
		t.Errorf("ticket after reconnecting: QR reads %q", qr)
	}
}

// A serial printer whose line goes away mid-ticket is reported too.
func TestSerialUnplug(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu := newEmulator(t, emulator.Config{Profile: prof, BaudRate: 38400})
	pty, err := emu.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pr := open(t, "serial://"+pty.Path+"?baud=38400", prof, printer.Options{Mode: printer.RasterMode, StatusTimeout: 500 * time.Millisecond})
	go func() {
		for emu.Stats().Received < 3000 {
			time.Sleep(5 * time.Millisecond)
		}
		pty.Close()
	}()
	st, err := pr.Print(ctx, exampleTicket("pl"))
	if err == nil || st.Ready() {
		t.Fatalf("serial line gone mid-ticket: %v, %v; want an error", st, err)
	}
	if !st.Has(printer.Disconnected) && !st.Has(printer.NotAnswering) {
		t.Errorf("status %v: want disconnected or not answering", st)
	}
}

// Every line goes as text in a code page the printer has, and the emulator
// reads the bytes back as the same text, for every language on printers
// with different code page numbering.
func TestCodePagesRoundTrip(t *testing.T) {
	t.Parallel()
	wantPage := map[string]map[string]string{
		"tm-t20ii":   {"pl": "CP852", "lt": "CP1257", "ru": "CP866", "uk": "CP1251"},
		"generic-80": {"pl": "CP852", "lt": "CP1257", "ru": "CP866", "uk": "CP1251"},
		"tm-t88v":    {"pl": "CP852", "lt": "CP1257", "ru": "CP866", "uk": "CP1251"},
	}
	for name, pages := range wantPage {
		prof := lookup(t, name)
		for lang, page := range pages {
			tk := exampleTicket(lang)
			enc, got := printThrough(t, prof, printer.TextMode, tk)
			if n := enc.RasterLines(); n != 0 {
				t.Errorf("%s %s: %d lines drawn, want all as text", name, lang, n)
			}
			used := map[string]bool{}
			var sent []string
			for _, l := range enc.Lines {
				if l.CodePage != "" && l.CodePage != "native QR" {
					used[l.CodePage] = true
					sent = append(sent, l.Text)
				}
			}
			if !used[page] {
				t.Errorf("%s %s: sent in %v, want %s among them", name, lang, used, page)
			}
			if printed := nonEmpty(got.Lines); strings.Join(printed, "|") != strings.Join(sent, "|") {
				t.Errorf("%s %s: printed\n%q\nwant\n%q", name, lang, printed, sent)
			}
		}
	}
}

func nonEmpty(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// A printer without the code page a language needs gets those lines as
// pictures: the ZJ-5870 has CP866 but not CP1251, so Ukrainian lines with
// і, ї, є or ґ are drawn, the others go as text, and no line prints a
// wrong letter.
func TestRasterFallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		profile, lang string
		drawn         []string // lines that must be drawn
	}{
		{"zj-5870", "uk", []string{"Міська рада Кракова", "Реєстрація", "Очікування"}},
		{"zj-5870", "lt", []string{"Jūsų numeris", "Prieš jus: 3 žmonės"}},
		{"tm-t88iv", "lt", []string{"Jūsų numeris"}},
		{"tm-t88iv", "uk", []string{"Міська рада Кракова", "Очікування"}},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"-"+tt.lang, func(t *testing.T) {
			prof := lookup(t, tt.profile)
			tk := exampleTicket(tt.lang)
			enc, got := printThrough(t, prof, printer.TextMode, tk)
			drawn := map[string]bool{}
			var text []string
			for _, l := range enc.Lines {
				if l.Raster {
					drawn[l.Text] = true
				} else if l.CodePage != "native QR" {
					text = append(text, l.Text)
				}
			}
			for _, want := range tt.drawn {
				found := false
				for d := range drawn {
					found = found || strings.HasPrefix(d, want)
				}
				if !found {
					t.Errorf("%q not drawn; drawn: %v", want, drawn)
				}
			}
			if printed := nonEmpty(got.Lines); strings.Join(printed, "|") != strings.Join(text, "|") {
				t.Errorf("text printed\n%q\nwant exactly the lines sent as text\n%q", printed, text)
			}
			for _, w := range got.Warnings {
				t.Errorf("emulator warning: %s", w)
			}
			if got.Rasters == 0 {
				t.Error("no raster image printed")
			}
			if qr := decodeQR(t, got.Image); qr != tk.QRURL {
				t.Errorf("QR reads %q", qr)
			}
		})
	}
}

// Raster mode draws the whole ticket; it must still read and scan.
func TestRasterModeTicket(t *testing.T) {
	t.Parallel()
	for _, width := range []int{58, 80} {
		prof := profileFor(t, width)
		tk := exampleTicket("pl")
		enc, got := printThrough(t, prof, printer.TextMode, tk)
		rEnc, rGot := printThrough(t, prof, printer.RasterMode, tk)
		if len(rGot.Lines) != 0 {
			t.Errorf("%d mm raster mode printed text lines %q", width, rGot.Lines)
		}
		if len(rEnc.Bytes) < 3*len(enc.Bytes)/2 {
			t.Errorf("%d mm: raster mode %d bytes, text mode %d: raster should cost more", width, len(rEnc.Bytes), len(enc.Bytes))
		}
		if qr := decodeQR(t, rGot.Image); qr != tk.QRURL {
			t.Errorf("%d mm raster mode QR reads %q", width, qr)
		}
		_ = got
		checkGolden(t, filepath.Join("testdata", "golden", fmt.Sprintf("ticket-raster-pl-%d.png", width)), rGot.Image)
	}
}

// Text with control characters cannot smuggle commands to the printer.
func TestControlCharactersCleaned(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	tk := exampleTicket("pl")
	tk.Footer = "Koniec\x1bi\x1dV\x00 wizyty\ttutaj"
	_, got := printThrough(t, prof, printer.TextMode, tk)
	if got.Cut != emulator.PartialCut {
		t.Errorf("ticket cut %v, want one partial cut at the end", got.Cut)
	}
	if !strings.Contains(got.Text(), "KonieciV wizyty tutaj") {
		t.Errorf("footer printed as %q", got.Text())
	}
}

// The 58 mm layout on an 80 mm printer set up for 58 mm paper stays
// inside 384 dots.
func TestNarrowPaperOnWidePrinter(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	tk := exampleTicket("pl")
	tk.PaperMM = 58
	_, got := printThrough(t, prof, printer.TextMode, tk)
	ink := inkBounds(got.Image)
	if ink.Max.X-8 > 384 {
		t.Errorf("ink reaches dot %d on 58 mm paper", ink.Max.X-8)
	}
	tk.PaperMM = 80
	if _, err := printer.NewEncoder(lookup(t, "generic-58"), printer.TextMode).Ticket(tk); err == nil {
		t.Error("an 80 mm ticket accepted for a 58 mm printer")
	}
}

func inkBounds(img *image.Gray) image.Rectangle {
	r := image.Rectangle{}
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			if img.GrayAt(x, y).Y == 0 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// The test page shows every alphabet, and says how each was sent.
func TestTestPage(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"tm-t20ii", "zj-5870"} {
		prof := lookup(t, name)
		enc, err := printer.NewEncoder(prof, printer.TextMode).TestPage(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		emu := newEmulator(t, emulator.Config{Profile: prof})
		emu.Receive(nil, enc.Bytes, time.Now())
		emu.Flush()
		got := emu.Tickets()
		if len(got) != 1 {
			t.Fatalf("%s: %d tickets", name, len(got))
		}
		var sent []string
		for _, l := range enc.Lines {
			sent = append(sent, l.Text)
		}
		all := strings.Join(sent, "\n")
		for _, a := range printer.Alphabets() {
			if !strings.Contains(all, a.Language+":") {
				t.Errorf("%s: test page lacks %s", name, a.Language)
			}
		}
		text := got[0].Text()
		if qr := decodeQR(t, got[0].Image); qr != printer.TestPageURL {
			t.Errorf("%s: test page QR reads %q", name, qr)
		}
		if name == "zj-5870" && !strings.Contains(text, "drawn") {
			t.Errorf("zj-5870 test page does not say that some alphabets were drawn:\n%s", text)
		}
	}
}

// An office logo is dithered and printed above the office name, within
// the width the layout allows it.
func TestLogo(t *testing.T) {
	t.Parallel()
	logo := image.NewGray(image.Rect(0, 0, 300, 120))
	for y := 0; y < 120; y++ {
		for x := 0; x < 300; x++ {
			logo.Pix[y*logo.Stride+x] = uint8(x * 255 / 300) // a grey ramp
		}
	}
	tk := exampleTicket("pl")
	tk.Logo = logo
	for _, width := range []int{58, 80} {
		prof := profileFor(t, width)
		_, plain := printThrough(t, prof, printer.TextMode, exampleTicket("pl"))
		_, got := printThrough(t, prof, printer.TextMode, tk)
		if got.Rasters <= plain.Rasters {
			t.Errorf("%d mm: no picture added for the logo", width)
		}
		top := inkBounds(got.Image.SubImage(image.Rect(0, 0, got.Image.Rect.Dx(), 100)).(*image.Gray))
		if top.Empty() || top.Dx() > prof.WidthDots*3/5+1 {
			t.Errorf("%d mm: logo ink %v, want some, at most 3/5 of %d dots wide", width, top, prof.WidthDots)
		}
		if got.Image.Rect.Dy() <= plain.Image.Rect.Dy()+50 {
			t.Errorf("%d mm: ticket with a logo is not longer", width)
		}
		if qr := decodeQR(t, got.Image); qr != tk.QRURL {
			t.Errorf("%d mm: QR reads %q", width, qr)
		}
	}
}

// A kiosk may start before its printer: Open succeeds, Status says
// disconnected, and once the printer is there the next call finds it.
func TestPrinterAppearsLater(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	pr := open(t, "tcp://"+addr, prof, printer.Options{})
	st, err := pr.Status(ctx)
	if err == nil || !st.Has(printer.Disconnected) || !strings.Contains(err.Error(), "connecting to printer") {
		t.Fatalf("no printer yet: %v, %v; want disconnected", st, err)
	}
	if _, err := pr.Print(ctx, exampleTicket("pl")); !errors.Is(err, printer.ErrNotReady) {
		t.Fatalf("print with no printer: %v; want ErrNotReady", err)
	}
	emu := newEmulator(t, emulator.Config{Profile: prof})
	srv, err := emu.ListenTCP(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if st, err := pr.Print(ctx, exampleTicket("pl")); err != nil || !st.Ready() {
		t.Fatalf("printer switched on: %v, %v", st, err)
	}
	if _, err := printer.Open(ctx, "lpt:///dev/lp0", prof, printer.Options{}); err == nil {
		t.Error("Open accepted an unknown scheme")
	}
}

// With automatic status back on, the printer tells of a change without
// being asked.
func TestAutoStatusBack(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "tm-t20ii")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emu := newEmulator(t, emulator.Config{Profile: prof})
	srv, err := emu.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pr := open(t, "tcp://"+srv.Addr(), prof, printer.Options{AutoStatusBack: true})
	waitAuto := func(want func(printer.Status) bool) printer.Status {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if st, ok := pr.AutoStatus(); ok && want(st) {
				return st
			}
		}
		st, ok := pr.AutoStatus()
		t.Fatalf("automatic status %v (%v) never became what was expected", st, ok)
		return st
	}
	waitAuto(printer.Status.Ready)
	emu.SetCoverOpen(true)
	waitAuto(func(s printer.Status) bool { return s.Has(printer.CoverOpen) })
	emu.SetCoverOpen(false)
	waitAuto(printer.Status.Ready)
}
