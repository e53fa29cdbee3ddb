package device

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/firstboot"
	"github.com/numerek/numerek/device/pairing"
	"github.com/numerek/numerek/device/watchdog"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/dnssd"
)

// PairOptions are what a device pairs with.
type PairOptions struct {
	// Local is the device's own file: its panel, status page and printer.
	Local *config.Local
	// ServerURL is the server to pair with; empty: Find it.
	ServerURL string
	// Find looks for the server on the network (see protocol/dnssd),
	// asked again until it answers while the screen says so.
	Find     func(ctx context.Context) (string, error)
	Key      ed25519.PrivateKey
	Hardware protocol.Hardware
	// CardProblems are the mistakes of the card's numerek.txt, which the
	// screen shows (the first) for the technician to fix.
	CardProblems firstboot.Problems
}

// Pair shows the pairing screen and pairs the device with the server: it
// returns the credentials the server gave once an admin approved the
// code, with the server's address, or nil when ctx ended, the screen was
// closed or (with opts.Screenshot) the first frame with a code was
// written. A ticket kiosk prints each new code too. Like Run, it must be
// called on the main goroutine.
func Pair(ctx context.Context, p PairOptions, opts Options) (creds *protocol.Credentials, serverURL string, err error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	log := opts.Log.With("role", "pairing")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	spawn, wait := spawner(ctx, log)
	defer wait()
	defer cancel()

	s := p.Local.Screen
	screen := display.NewPairing(display.PairingConfig{Panel: display.Panel{Width: s.Width, Height: s.Height, Rotation: s.Rotation, WidthMM: s.WidthMM}})
	fingerprint := protocol.Fingerprint(p.Key.Public().(ed25519.PublicKey))
	server := p.ServerURL
	if server == "" {
		server = lookingForServer
	}
	pr := &pairingRun{fingerprint: fingerprint, server: server, screen: screen, log: log, changed: make(chan struct{}),
		cardProblem: cardProblem(p.CardProblems)}
	if len(p.CardProblems) > 0 {
		log.Warn("the card's numerek.txt has mistakes; the pairing screen shows them", "problems", p.CardProblems.Error())
	}
	screen.SetView(pr.view())
	if p.Local.Printer.URI != "" {
		pr.printer = openPairingPrinter(ctx, p.Local.Printer, opts, log)
	}

	spawn("pairing", func(ctx context.Context) error {
		server, err := pr.find(ctx, p)
		if err != nil {
			return err
		}
		var c protocol.Credentials
		for {
			c, err = pairing.Run(ctx, pairing.Options{
				ServerURL: server, Key: p.Key, Hardware: p.Hardware, Version: opts.Version, Enrolment: p.Local.Enrolment, Log: log,
				OnState: func(st pairing.State) { pr.set(ctx, st, spawn) },
			})
			if err == nil || ctx.Err() != nil {
				break
			}
			// A server that answers what RFC 8628 does not say: start
			// over with a new code rather than stand still.
			log.Error("pairing went wrong; starting again", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}
		if err != nil {
			return err
		}
		pr.mu.Lock()
		creds = &c
		pr.mu.Unlock()
		log.Info("paired", "office", c.Office, "role", c.Role, "name", c.Name, "device", c.DeviceID)
		cancel() // ends the screen: the device starts again as what it was paired as
		return nil
	})
	if listen := p.Local.Status.Listen; listen != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /status", jsonStatus(func(*http.Request) any { return pr.status(opts.Version) }))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			if st := pr.status(opts.Version).Pairing; st.Unreachable {
				http.Error(w, "unpaired, and the queue server cannot be reached: "+st.Problem, http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, "ok")
		})
		err := serveStatus(listen, log, spawn, mux)
		if err != nil {
			return nil, "", err
		}
	}
	run := display.RunOptions{
		Windowed: s.Windowed || opts.Windowed, WindowScale: s.WindowScale, Title: "Numerek pairing",
		Screenshot: opts.Screenshot, ExitAfterScreenshot: opts.ExitAfterScreenshot,
		OnCloseRefused: func() { log.Warn("the window system asked to close the pairing screen; it stays open") },
	}
	if opts.FramesDir != "" {
		d := &dev{log: log, spawn: spawn}
		run.Capture = d.frames(ctx, filepath.Join(opts.FramesDir, "pairing.png"))
	}
	if opts.TraceFrames {
		run.OnFrame = func(at time.Time) { log.Info("frame drawn", "at", at.Format(time.RFC3339Nano)) }
	}
	// The pairing screen is kioskd's screen like any role's: systemd hears
	// READY=1 once it draws and restarts it if it freezes. Without that,
	// systemd killed an unpaired kioskd at TimeoutStartSec, and its code
	// changed under the technician every minute.
	wd := watchdog.New(screen, log)
	spawn("telling systemd", func(ctx context.Context) error { wd.Run(ctx); return nil })
	if opts.Screenshot != "" {
		// The first frame should show a code, not the wait for one.
		pr.waitForCode(ctx, 10*time.Second)
	}
	log.Info("kioskd pairing", "server", server, "fingerprint", fingerprint, "data", p.Local.DataDir, "status", p.Local.Status.Listen)
	err = display.Run(ctx, screen, run)
	cancel()
	wait()
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if creds != nil {
		return creds, pr.server, nil
	}
	return nil, "", err
}

// find is the server's address: the one given, or the first found on the
// network, the screen saying meanwhile that it looks for one.
func (pr *pairingRun) find(ctx context.Context, p PairOptions) (string, error) {
	if p.ServerURL != "" {
		return p.ServerURL, nil
	}
	backoff := protocol.Backoff{Min: time.Second, Max: 10 * time.Second}
	for {
		url, err := p.Find(ctx)
		if err == nil {
			pr.log.Info("found the queue server on the network", "url", url)
			pr.mu.Lock()
			pr.server = url
			pr.mu.Unlock()
			return url, nil
		}
		pr.log.Warn("no queue server found on the network yet; looking again", "err", err)
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(backoff.Next()):
		}
	}
}

// lookingForServer stands for the server's address on the screen and the
// status page while the device looks for it on the network.
const lookingForServer = "mdns: " + dnssd.Service + "…"

// pairingRun is what the pairing shows and prints.
type pairingRun struct {
	fingerprint, server string
	cardProblem         display.Bilingual
	screen              *display.Pairing
	printer             *printer.Printer
	log                 *slog.Logger

	mu      sync.Mutex
	state   pairing.State
	printed string
	changed chan struct{}
}

func (pr *pairingRun) view() display.PairingView {
	st := pr.state
	return display.PairingView{Code: st.Code, URI: st.URI, URIComplete: st.URIComplete, Fingerprint: pr.fingerprint,
		Server: pr.server, Refused: st.Refused, Unreachable: st.Unreachable, CardProblem: pr.cardProblem}
}

// cardProblem is the first of the card's mistakes as the screen says it,
// and how many more there are.
func cardProblem(ps firstboot.Problems) display.Bilingual {
	if len(ps) == 0 {
		return display.Bilingual{}
	}
	cat := i18n.Messages()
	b := display.Bilingual{Polish: ps[0].Text(cat, "pl"), English: ps[0].Text(cat, "en")}
	if more := len(ps) - 1; more > 0 {
		b.Polish += fmt.Sprintf(" (+%d)", more)
		b.English += fmt.Sprintf(" (+%d)", more)
	}
	return b
}

// set shows a new state, and prints a new code on a kiosk's printer.
func (pr *pairingRun) set(ctx context.Context, st pairing.State, spawn func(string, func(context.Context) error)) {
	pr.mu.Lock()
	pr.state = st
	v := pr.view()
	close(pr.changed)
	pr.changed = make(chan struct{})
	print := pr.printer != nil && st.Code != "" && st.Code != pr.printed
	if print {
		pr.printed = st.Code
	}
	pr.mu.Unlock()
	pr.screen.SetView(v)
	if print {
		spawn("printing the pairing code", func(ctx context.Context) error { return pr.print(ctx, v) })
	}
}

// print prints the code on a simple ticket: the code large and the QR of
// the page with it.
func (pr *pairingRun) print(ctx context.Context, v display.PairingView) error {
	cat := i18n.Messages()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := pr.printer.Print(ctx, printer.Ticket{
		Office:      cat.T("pl", "pairing.title") + " / " + cat.T("en", "pairing.title"),
		NumberLabel: "Kod / Code",
		// Without the dash: nine characters at the largest size run onto
		// a second line on 80 mm paper; the code is the same typed
		// either way.
		Number:    strings.ReplaceAll(v.Code, "-", ""),
		QRURL:     v.URIComplete,
		QRCaption: cat.T("pl", "pairing.instruction", "uri", v.URI),
		Footer:    cat.T("pl", "pairing.fingerprint") + ": " + v.Fingerprint,
	})
	if err != nil {
		return err
	}
	if !st.Ready() {
		pr.log.Error("the pairing code was not printed", "printer", st.String())
	}
	return nil
}

func (pr *pairingRun) status(version string) Status {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	st := pr.state
	ps := &PairingStatus{State: "unpaired, asking the server for a code", Code: st.Code, Fingerprint: pr.fingerprint,
		Unreachable: st.Unreachable, Problem: st.Problem}
	if st.Code != "" {
		ps.State = "unpaired, code " + st.Code
	}
	return Status{Version: version, Server: pr.server, Pairing: ps}
}

// waitForCode waits until the screen shows a code, or wait passes.
func (pr *pairingRun) waitForCode(ctx context.Context, wait time.Duration) {
	timeout := time.After(wait)
	for {
		pr.mu.Lock()
		code, changed := pr.state.Code, pr.changed
		pr.mu.Unlock()
		if code != "" {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			return
		case <-ctx.Done():
			return
		}
	}
}

// openPairingPrinter opens a kiosk's printer for the pairing codes; nil
// (logged) when it cannot be used.
func openPairingPrinter(ctx context.Context, pc config.Printer, opts Options, log *slog.Logger) *printer.Printer {
	prof, err := profiles.Lookup(pc.Profile)
	if err == nil {
		var mode printer.Mode
		if mode, err = printer.ParseMode(pc.Mode); err == nil {
			var p *printer.Printer
			if p, err = printer.Open(ctx, pc.URI, prof, printer.Options{Mode: mode, StatusTimeout: time.Second, Transports: opts.Printers}); err == nil {
				return p
			}
		}
	}
	log.Error("the pairing code will not be printed", "printer", pc.URI, "err", err)
	return nil
}
