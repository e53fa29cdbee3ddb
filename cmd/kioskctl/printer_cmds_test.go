package main

import (
	"bufio"
	"bytes"
	"context"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// runCmd runs kioskctl with args and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func readQR(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no readable QR code in %s: %v", path, err)
	}
	return res.GetText()
}

func TestTicketPreview(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct{ lang, width string }{{"pl", "80"}, {"uk", "58"}, {"lt", "58"}} {
		out := filepath.Join(dir, tt.lang+tt.width+".png")
		code, stdout, stderr := runCmd(t, "ticket-preview", "--lang", tt.lang, "--width", tt.width, "--out", out)
		if code != 0 || stderr != "" {
			t.Fatalf("ticket-preview %s %s: exit %d, %s", tt.lang, tt.width, code, stderr)
		}
		if !strings.Contains(stdout, out) {
			t.Errorf("output does not name the file: %q", stdout)
		}
		if qr := readQR(t, out); !strings.HasPrefix(qr, "https://") {
			t.Errorf("preview QR reads %q", qr)
		}
	}
	for _, args := range [][]string{
		{"ticket-preview", "--lang", "pl", "--width", "70", "--out", filepath.Join(dir, "x.png")},
		{"ticket-preview", "--lang", "de", "--out", filepath.Join(dir, "x.png")},
	} {
		if code, _, stderr := runCmd(t, args...); code == 0 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want a clear error", args, code, stderr)
		}
	}
	if code, _, stderr := runCmd(t, "ticket-preview", "--lang", "pl"); code != 2 || !strings.Contains(stderr, "--out") {
		t.Errorf("missing --out: exit %d, %q", code, stderr)
	}
}

// startEmulator runs `kioskctl printer-emulator` until the test ends and
// returns what it printed on start-up, keyed by "pty" and "tcp".
func startEmulator(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, append([]string{"printer-emulator"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("printer-emulator exit %d", code)
		}
	})
	found := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok && (k == "pty" || k == "tcp") {
			found[k] = strings.Fields(v)[0]
		}
		if strings.HasPrefix(line, "emulating") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	return found
}

// The technician's round: run the emulator by hand, print a test page to
// it over TCP and over a pty, read its status.
func TestPrintTestAndStatusAgainstEmulator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addrs := startEmulator(t, "--tcp", "127.0.0.1:0", "--pty", "--out", dir)
	if addrs["tcp"] == "" || addrs["pty"] == "" {
		t.Fatalf("emulator did not print its addresses: %v", addrs)
	}
	for i, uri := range []string{"tcp://" + addrs["tcp"], "serial://" + addrs["pty"] + "?baud=115200"} {
		code, stdout, stderr := runCmd(t, "print-test", "--printer", uri)
		if code != 0 {
			t.Fatalf("print-test %s: exit %d: %s", uri, code, stderr)
		}
		for _, want := range []string{"CP852", "Polski:", "CP1257", "CP1251", "status: ready"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("print-test %s output lacks %q:\n%s", uri, want, stdout)
			}
		}
		page := filepath.Join(dir, "ticket-000"+string(rune('1'+i))+".png")
		waitFile(t, page)
		if qr := readQR(t, page); qr != "https://numerek.example/printer-test" {
			t.Errorf("test page QR reads %q", qr)
		}
		code, stdout, stderr = runCmd(t, "printer-status", "--printer", uri)
		if code != 0 || !strings.Contains(stdout, "ready") {
			t.Errorf("printer-status %s: exit %d, %q %q", uri, code, stdout, stderr)
		}
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s never written", path)
}

// A printer that runs out of paper says so, and the commands fail.
func TestPrinterStatusFaults(t *testing.T) {
	t.Parallel()
	addrs := startEmulator(t, "--tcp", "127.0.0.1:0", "--paper-tickets", "1")
	uri := "tcp://" + addrs["tcp"]
	// The roll ends with the page: the printer stops before confirming it.
	code, stdout, stderr := runCmd(t, "print-test", "--printer", uri, "--timeout", "300ms")
	if code != 1 || !strings.Contains(stdout, "status: paper out") || !strings.Contains(stderr, "paper out") {
		t.Fatalf("page that empties the roll: exit %d, %q, %q; want exit 1 saying paper out", code, stdout, stderr)
	}
	code, stdout, stderr = runCmd(t, "printer-status", "--printer", uri)
	if code != 1 || !strings.Contains(stdout, "paper out") || !strings.Contains(stderr, "not ready") {
		t.Errorf("out of paper: exit %d, %q, %q; want exit 1 saying paper out", code, stdout, stderr)
	}
	code, _, stderr = runCmd(t, "printer-status", "--printer", "tcp://127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "connecting to printer") {
		t.Errorf("no printer there: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "printer-status"); code != 2 || !strings.Contains(stderr, "--printer") {
		t.Errorf("no --printer: exit %d, %q", code, stderr)
	}
}
