package main

import (
	"fmt"
	"image"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
)

// capture listens on a TCP port as a network printer would and hands over
// everything one connection sent, once it closes.
func capture(t *testing.T) (uri string, got <-chan []byte) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(ch)
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		b, _ := io.ReadAll(c)
		ch <- b
	}()
	return "tcp://" + l.Addr().String(), ch
}

// decode prints data on an emulated printer of the model and returns the
// one ticket it printed.
func decode(t *testing.T, model string, data []byte) emulator.Ticket {
	t.Helper()
	prof, err := profiles.Lookup(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range escpos.Parse(data) {
		if why := emulator.Unsupported(prof, c); why != "" || !c.Known {
			t.Errorf("byte %d: %s %s sent to %s", c.Offset, c.Name, why, model)
		}
	}
	emu, err := emulator.New(emulator.Config{Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	emu.Receive(nil, data, time.Now())
	emu.Flush()
	tickets := emu.Tickets()
	if len(tickets) != 1 {
		t.Fatalf("%d bytes printed %d tickets on a %s, want 1", len(data), len(tickets), model)
	}
	for _, w := range tickets[0].Warnings {
		t.Errorf("%s: emulator warning: %s", model, w)
	}
	return tickets[0]
}

func qrIn(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no readable QR code: %v", err)
	}
	return res.GetText()
}

// A technician checks a model without paper: ticket-preview --raw-to and
// print-test --raw send the ESC/POS bytes for the named model to a network
// printer's port, and the bytes that arrive print, on that model, the
// whole ticket or page with a QR code that scans, with no command the
// model lacks: raster images for an Epson, column images for a TH230.
func TestRawBytesToPrinterURI(t *testing.T) {
	t.Parallel()
	for _, model := range []string{"TM-T20II", "TH230", "TM-U220"} {
		t.Run("ticket-preview "+model, func(t *testing.T) {
			uri, got := capture(t)
			code, stdout, stderr := runCmd(t, "ticket-preview", "--lang", "uk", "--profile", model, "--raw-to", uri)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			data := <-got
			if want := fmt.Sprintf("sent %d bytes of ESC/POS", len(data)); !strings.Contains(stdout, want) || !strings.Contains(stdout, uri) {
				t.Errorf("output %q does not say %q to %s", stdout, want, uri)
			}
			tk := decode(t, model, data)
			if qr := qrIn(t, tk.Image); !strings.HasPrefix(qr, "https://") {
				t.Errorf("ticket QR reads %q", qr)
			}
			if !strings.Contains(tk.Text(), "A123") {
				t.Errorf("ticket text lacks the number:\n%s", tk.Text())
			}
		})
		t.Run("print-test "+model, func(t *testing.T) {
			uri, got := capture(t)
			code, stdout, stderr := runCmd(t, "print-test", "--raw", "--printer", uri, "--profile", model)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			data := <-got
			if want := fmt.Sprintf("sent %d bytes to %s", len(data), uri); !strings.Contains(stdout, want) {
				t.Errorf("output does not say %q:\n%s", want, stdout)
			}
			page := decode(t, model, data)
			if qr := qrIn(t, page.Image); qr != "https://numerek.example/printer-test" {
				t.Errorf("test page QR reads %q", qr)
			}
			if !strings.Contains(strings.Join(strings.Fields(page.Text()), " "), "Numerek test page") {
				t.Errorf("test page text:\n%s", page.Text())
			}
		})
	}
	// A file is a printer URI too; --out and --raw-to together give both.
	dir := t.TempDir()
	bin, png := filepath.Join(dir, "ticket.bin"), filepath.Join(dir, "ticket.png")
	if code, _, stderr := runCmd(t, "ticket-preview", "--lang", "lt", "--profile", "TH230", "--raw-to", "file://"+bin, "--out", png); code != 0 {
		t.Fatalf("--raw-to file:// with --out: exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if qr, want := qrIn(t, decode(t, "TH230", data).Image), readQR(t, png); qr != want {
		t.Errorf("the bytes sent print a QR reading %q, the preview one reading %q", qr, want)
	}
	for _, args := range [][]string{
		{"ticket-preview", "--raw-to", "ftp://x", "--profile", "TH230"},
		{"ticket-preview", "--raw-to", "tcp://127.0.0.1:1", "--profile", "TH230"},
	} {
		if code, _, stderr := runCmd(t, args...); code != 1 || !strings.Contains(stderr, "--raw-to") {
			t.Errorf("%v: exit %d, %q; want an error naming --raw-to", args, code, stderr)
		}
	}
}

// The technician's round on a column-image printer: the emulator runs as
// a TH230 on a TCP port, print-test prints to it with status, and the page
// it drew scans.
func TestPrintTestOnColumnImagePrinter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addrs := startEmulator(t, "--tcp", "127.0.0.1:0", "--out", dir, "--profile", "TH230")
	code, stdout, stderr := runCmd(t, "print-test", "--printer", "tcp://"+addrs["tcp"], "--profile", "TH230")
	if code != 0 || stderr != "" {
		t.Fatalf("print-test: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "status: ready") || !strings.Contains(stdout, "drawn") {
		t.Errorf("print-test output:\n%s", stdout)
	}
	page := filepath.Join(dir, "ticket-0001.png")
	waitFile(t, page)
	if qr := readQR(t, page); qr != "https://numerek.example/printer-test" {
		t.Errorf("test page QR reads %q", qr)
	}
}

// A model that prints no pictures is named at the start of print-test
// and ticket-preview, with what the office's tickets would lack.
func TestNoPictureModelWarned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "page.bin")
	code, stdout, stderr := runCmd(t, "print-test", "--raw", "--printer", "file://"+out, "--profile", "OCD-300")
	if code != 0 {
		t.Fatalf("print-test: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"warning:", "ocd-300", "Aures", "prints no pictures", "QR code"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q: %q", want, stderr)
		}
	}
	if !strings.Contains(stdout, "left out") {
		t.Errorf("the lines left out are not listed:\n%s", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, "OCD-300", data)
	_, _, stderr = runCmd(t, "ticket-preview", "--profile", "AF-240", "--raw-to", "file://"+filepath.Join(dir, "t.bin"))
	if !strings.Contains(stderr, "af-240") || !strings.Contains(stderr, "pl, en, lt, ru, uk") {
		t.Errorf("ticket-preview for a display with no known code page: %q", stderr)
	}
}
