package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/printer/ticketfmt"
)

// printerCommands are the kioskctl subcommands for the printer part of a device.
func printerCommands() []command {
	return []command{
		{name: "print-test", summary: "print a test page (alphabets, sizes, QR, cut) and report the printer's status; --raw just sends its bytes", run: runPrintTest},
		{name: "ticket-preview", summary: "draw an example ticket as the printer would print it, to a PNG, and/or send its bytes to a printer URI (--raw-to)", run: runTicketPreview},
		{name: "printer-status", summary: "ask a printer for its status (paper, cover, errors)", run: runPrinterStatus},
		{name: "printer-emulator", summary: "run an emulated ESC/POS printer on a pty and/or TCP port, writing a PNG per ticket", run: runPrinterEmulator},
		{name: "printer-profiles", summary: "list the printer profiles", run: runPrinterProfiles},
	}
}

// printerFlags are the flags every command that talks to a printer takes.
type printerFlags struct {
	uri, profile, mode *string
	timeout            *time.Duration
}

func addPrinterFlags(fs *flag.FlagSet) printerFlags {
	return printerFlags{
		uri:     fs.String("printer", "", "printer URI: serial:///dev/ttyUSB0?baud=19200, usb:///dev/usb/lp0, tcp://10.0.0.5:9100, file:///path, emulator:///dir"),
		profile: fs.String("profile", profiles.Default, "printer profile (kioskctl printer-profiles lists them)"),
		mode:    fs.String("mode", "text", "text: the printer's font where a code page allows; raster: everything drawn"),
		timeout: fs.Duration("timeout", 2*time.Second, "how long to wait for a status answer"),
	}
}

func parseMode(s string) (printer.Mode, error) {
	switch s {
	case "text":
		return printer.TextMode, nil
	case "raster":
		return printer.RasterMode, nil
	}
	return 0, fmt.Errorf("--mode %q: want text or raster", s)
}

// open connects to the printer the flags name.
func (f printerFlags) open(ctx context.Context, stderr io.Writer, name string) (*printer.Printer, error) {
	if *f.uri == "" {
		fmt.Fprintf(stderr, "kioskctl %s: --printer is required\n", name)
		return nil, errUsage
	}
	prof, err := profiles.Lookup(*f.profile)
	if err != nil {
		return nil, err
	}
	mode, err := parseMode(*f.mode)
	if err != nil {
		return nil, err
	}
	return printer.Open(ctx, *f.uri, prof, printer.Options{Mode: mode, StatusTimeout: *f.timeout, Transports: transports()})
}

// transports are the ways kioskctl reaches a printer: the real ones, and
// emulator:///DIR for a PNG per ticket.
func transports() printer.Transports { return emulator.Register(printer.Builtin()) }

// warnShortfall tells the technician, before anything is printed, what the
// office's tickets would lack on this model.
func warnShortfall(stderr io.Writer, prof profiles.Profile, mode printer.Mode, logo bool) {
	if err := printer.Check(prof, mode, i18n.Languages, logo); err != nil {
		fmt.Fprintf(stderr, "warning: %v\n", err)
	}
}

// how says in a word how a line went to the printer.
func how(l printer.LineReport) string {
	switch {
	case l.Omitted:
		return "left out"
	case l.Raster:
		return "drawn"
	}
	return l.CodePage
}

func runPrintTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("print-test", stderr)
	pf := addPrinterFlags(fs)
	raw := fs.Bool("raw", false, "only send the page's ESC/POS bytes: no status asked, no wait for the end (a printer with no way back, a capture such as nc -l 9100)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := pf.open(ctx, stderr, "print-test")
	if err != nil {
		return err
	}
	defer p.Close()
	warnShortfall(stderr, p.Profile(), printer.NewEncoder(p.Profile(), mustMode(*pf.mode)).Mode(), false)
	var (
		enc printer.Encoded
		st  printer.Status
	)
	if *raw {
		enc, err = printer.NewEncoder(p.Profile(), mustMode(*pf.mode)).TestPage(time.Now())
		if err == nil {
			err = p.Write(ctx, enc.Job)
		}
	} else {
		enc, st, err = p.PrintTestPage(ctx, time.Now())
	}
	for _, l := range enc.Lines {
		fmt.Fprintf(stdout, "%-12s %s\n", how(l), l.Text)
	}
	fmt.Fprintf(stdout, "sent %d bytes to %s (%s)\n", len(enc.Bytes), p.Target(), p.Profile().Name)
	if !*raw {
		fmt.Fprintf(stdout, "status: %s\n", st)
	}
	if err != nil {
		return fmt.Errorf("test page: %w", err)
	}
	return nil
}

// mustMode is the mode of a flag parseMode has already accepted.
func mustMode(s string) printer.Mode {
	m, _ := parseMode(s)
	return m
}

func runPrinterStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("printer-status", stderr)
	pf := addPrinterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := pf.open(ctx, stderr, "printer-status")
	if err != nil {
		return err
	}
	defer p.Close()
	st, err := p.Status(ctx)
	fmt.Fprintf(stdout, "%s: %s\n", p.Target(), st)
	if err != nil {
		return err
	}
	if !st.Ready() {
		return fmt.Errorf("printer not ready: %s", st)
	}
	return nil
}

func runTicketPreview(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ticket-preview", stderr)
	lang := fs.String("lang", i18n.Default, "ticket language: "+strings.Join(i18n.Languages, ", "))
	width := fs.Int("width", 80, "paper width in mm: 58 or 80 (with --profile: the profile's paper unless given)")
	out := fs.String("out", "", "PNG file to write")
	rawTo := fs.String("raw-to", "", "also send the ticket's ESC/POS bytes to this printer URI (tcp://, serial://, usb://, file://, emulator://), without status checks")
	profile := fs.String("profile", "", "printer profile (default: tm-t20ii for 80 mm, generic-58 for 58 mm)")
	mode := fs.String("mode", "text", "text or raster")
	number := fs.String("number", "A123", "ticket number")
	ahead := fs.Int("ahead", 3, "people ahead")
	priority := fs.Bool("priority", false, "mark the ticket as priority service")
	logo := fs.String("logo", "", "office logo, a PNG, printed dithered at the top")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" && *rawTo == "" {
		fmt.Fprintln(stderr, "kioskctl ticket-preview: --out FILE.png or --raw-to URI is required")
		return errUsage
	}
	widthSet := false
	fs.Visit(func(f *flag.Flag) { widthSet = widthSet || f.Name == "width" })
	if !i18n.Supported(*lang) {
		return fmt.Errorf("--lang %q: want one of %s", *lang, strings.Join(i18n.Languages, ", "))
	}
	name := *profile
	switch {
	case name != "":
	case *width == 80:
		name = "tm-t20ii"
	case *width == 58:
		name = "generic-58"
	default:
		return fmt.Errorf("--width %d: want 58 or 80", *width)
	}
	prof, err := profiles.Lookup(name)
	if err != nil {
		return err
	}
	m, err := parseMode(*mode)
	if err != nil {
		return err
	}
	in := ticketfmt.Example(*lang)
	in.Number, in.Ahead, in.Priority, in.PaperMM = *number, *ahead, *priority, *width
	if *profile != "" && !widthSet {
		in.PaperMM = 0 // the profile's own paper
	}
	if *logo != "" {
		if in.Logo, err = readPNG(*logo); err != nil {
			return err
		}
	}
	warnShortfall(stderr, prof, m, in.Logo != nil)
	enc, err := printer.NewEncoder(prof, m).Ticket(ticketfmt.Compose(i18n.Messages(), in))
	if err != nil {
		return err
	}
	if *rawTo != "" {
		if err := sendRaw(ctx, *rawTo, prof, enc.Job); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sent %d bytes of ESC/POS (%s ticket, %s, %s mode) to %s\n", len(enc.Bytes), *lang, prof.Name, m, *rawTo)
		if *out == "" {
			return nil
		}
	}
	emu, err := emulator.New(emulator.Config{Profile: prof})
	if err != nil {
		return err
	}
	emu.Receive(nil, enc.Bytes, time.Now())
	emu.Flush()
	tickets := emu.Tickets()
	if len(tickets) != 1 {
		return fmt.Errorf("the emulator printed %d tickets from the example, want 1", len(tickets))
	}
	for _, w := range tickets[0].Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("writing preview: %w", err)
	}
	if err := png.Encode(f, tickets[0].Image); err != nil {
		f.Close()
		return fmt.Errorf("writing preview %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing preview %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "%s: %s ticket on %s (%d dots, %s mode), %d bytes of ESC/POS, %d lines of text drawn\n",
		*out, *lang, prof.Name, tickets[0].Image.Bounds().Dx()-16, m, len(enc.Bytes), enc.RasterLines())
	return nil
}

// sendRaw writes job to the printer at uri, paced for the profile, and
// closes the line once it has all gone.
func sendRaw(ctx context.Context, uri string, prof profiles.Profile, job escpos.Job) error {
	p, err := printer.Open(ctx, uri, prof, printer.Options{Transports: transports()})
	if err != nil {
		return fmt.Errorf("--raw-to: %w", err)
	}
	if err := p.Write(ctx, job); err != nil {
		p.Close()
		return fmt.Errorf("--raw-to: %w", err)
	}
	if err := p.Close(); err != nil {
		return fmt.Errorf("--raw-to %s: closing: %w", uri, err)
	}
	return nil
}

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading logo: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("reading logo %s: not a PNG: %w", path, err)
	}
	return img, nil
}

func runPrinterEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("printer-emulator", stderr)
	tcp := fs.String("tcp", "", "serve as a network printer on this address (:9100 as a real one; 127.0.0.1:0 for any free port)")
	usePTY := fs.Bool("pty", false, "serve on a pseudo-terminal, as a serial printer; its path is printed")
	out := fs.String("out", "", "folder for a PNG per ticket")
	profile := fs.String("profile", profiles.Default, "printer profile to emulate")
	baud := fs.Int("baud", 0, "serial line speed to model on the pty (0: unlimited)")
	buffer := fs.Int("buffer", 0, "input buffer in bytes; bytes that do not fit are lost (0: unlimited)")
	speed := fs.Float64("speed", 0, "print speed in mm/s (0: instant)")
	paper := fs.Int("paper-tickets", 0, "paper runs out after this many tickets (0: endless)")
	nearEnd := fs.Int("near-end-tickets", 3, "the paper near-end sensor trips this many tickets before the paper runs out")
	state := fs.String("state", "", "faults from the start, comma-separated: near-end, paper-out, cover-open, cutter-error")
	tearOff := fs.Duration("tear-off", 5*time.Second, "on printers without a cutter, end a ticket after the line has been idle this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tcp == "" && !*usePTY {
		fmt.Fprintln(stderr, "kioskctl printer-emulator: give --tcp ADDR, --pty or both")
		return errUsage
	}
	prof, err := profiles.Lookup(*profile)
	if err != nil {
		return err
	}
	faults, err := emulator.ParseURIState(url.Values{"state": {*state}}.Encode())
	if err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	emu, err := emulator.New(emulator.Config{
		Profile: prof, OutDir: *out, BaudRate: *baud, BufferBytes: *buffer,
		PrintSpeedMM: *speed, CutTime: 500 * time.Millisecond, PaperTickets: *paper, NearEndTickets: min(*paper, *nearEnd),
		TearOffAfter: *tearOff,
	})
	if err != nil {
		return err
	}
	faults.Apply(emu)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if *usePTY {
		pty, err := emu.ServePTY(ctx)
		if err != nil {
			return err
		}
		defer pty.Close()
		fmt.Fprintf(stdout, "pty: %s (serial://%s?baud=%d)\n", pty.Path, pty.Path, max(*baud, 9600))
	}
	if *tcp != "" {
		srv, err := emu.ListenTCP(ctx, *tcp)
		if err != nil {
			return err
		}
		defer srv.Close()
		fmt.Fprintf(stdout, "tcp: %s (tcp://%s)\n", srv.Addr(), srv.Addr())
	}
	fmt.Fprintf(stdout, "emulating %s (%d dots); tickets to %s; stop with Ctrl-C\n", prof.Name, prof.WidthDots, orNone(*out))
	<-ctx.Done()
	emu.Flush()
	st := emu.Stats()
	fmt.Fprintf(stdout, "received %d bytes, lost %d, printed %d tickets\n", st.Received, st.Dropped, st.Printed)
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "memory only (no --out)"
	}
	return s
}

func runPrinterProfiles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("printer-profiles", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, p := range profiles.All() {
		var pages []string
		for _, cp := range p.CodePages {
			pages = append(pages, fmt.Sprintf("%d=%s", cp.Number, cp.Name))
		}
		fmt.Fprintf(stdout, "%-12s %s\n             %d mm, %d dots, %d dpi; native QR %v; cutter %v; pictures as %s\n             ESC t: %s\n",
			p.Name, p.Summary, p.PaperMM, p.WidthDots, p.DPI, p.NativeQR, p.PartialCut || p.FullCut, p.Images(), strings.Join(pages, " "))
	}
	fmt.Fprintln(stdout, profiles.Credit)
	return nil
}
