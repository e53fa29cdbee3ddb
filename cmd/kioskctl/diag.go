package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/machine"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/protocol"
)

// level is how a diag check came out.
type level string

const (
	levelOK   level = "OK"
	levelWarn level = "WARN"
	levelFail level = "FAIL"
	levelSkip level = "SKIP" // not part of this device's role
)

// finding is one check's line of the diag report: what was found and,
// when it is not OK, what the technician should do.
type finding struct {
	check  string
	level  level
	detail string
	todo   string
}

// diagEnv is what diag checks: the device's configuration and the
// machine it runs on.
type diagEnv struct {
	cfg *config.Config
	// key is a paired device's key: its token is taken only with a proof
	// signed by it.
	key        ed25519.PrivateKey
	display    string // X display; "" is $DISPLAY
	machine    machine.Reader
	transports printer.Transports
	timeout    time.Duration
}

func runDiag(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("diag", stderr)
	cfgPath := fs.String("config", "/etc/numerek/kioskd.toml", "the device's configuration (kioskd --config)")
	display := fs.String("display", "", "the X display the screen is on (default $DISPLAY, else :0)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long each check may wait for an answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, key, err := deviceConfig(*cfgPath)
	if err != nil {
		return fmt.Errorf("reading the device's configuration: %w", err)
	}
	// xgb says on stderr that it tries without ~/.Xauthority, which is
	// normal on a kiosk and would only puzzle the technician.
	xgb.Logger = log.New(io.Discard, "", 0)
	env := diagEnv{cfg: cfg, key: key, display: *display, machine: machine.Local(), transports: transports(), timeout: *timeout}
	found := diagnose(ctx, env)
	writeFindings(stdout, found)
	failed := 0
	for _, f := range found {
		if f.level == levelFail {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed", failed, len(found))
	}
	return nil
}

// diagnose runs every check, in the order a technician works through
// them: what is at hand first, then the network and the server.
func diagnose(ctx context.Context, env diagEnv) []finding {
	var out []finding
	out = append(out, env.screen())
	out = append(out, env.printer(ctx))
	out = append(out, env.sound())
	out = append(out, env.network())
	out = append(out, env.server(ctx)...)
	out = append(out, env.disk())
	return out
}

func writeFindings(w io.Writer, found []finding) {
	for _, f := range found {
		fmt.Fprintf(w, "%-4s  %-8s %s\n", f.level, f.check, f.detail)
		if f.todo != "" && f.level != levelOK && f.level != levelSkip {
			fmt.Fprintf(w, "      %-8s → %s\n", "", f.todo)
		}
	}
}

// screen: the X display answers, and its size is the configured panel's.
func (env diagEnv) screen() finding {
	f := finding{check: "screen"}
	name := env.display
	if name == "" {
		name = os.Getenv("DISPLAY")
	}
	if name == "" {
		name = ":0"
	}
	conn, err := xgb.NewConnDisplay(name)
	if err != nil {
		f.level, f.detail = levelFail, fmt.Sprintf("X display %s does not answer: %v", name, err)
		f.todo = "check the screen's X session is running (systemctl status kioskd; the autologin session) and DISPLAY is right"
		return f
	}
	defer conn.Close()
	s := xproto.Setup(conn).DefaultScreen(conn)
	w, h := int(s.WidthInPixels), int(s.HeightInPixels)
	want := env.cfg.Screen
	f.level, f.detail = levelOK, fmt.Sprintf("X display %s answers: %dx%d", name, w, h)
	if w != want.Width || h != want.Height {
		f.level = levelWarn
		f.detail += fmt.Sprintf(", but the configuration says %dx%d", want.Width, want.Height)
		f.todo = "set [screen] width and height to the panel's resolution, or the panel's mode (xrandr) to the configured one"
	}
	return f
}

// printer: the full status through the configured URI.
func (env diagEnv) printer(ctx context.Context) finding {
	f := finding{check: "printer"}
	pc := env.cfg.Printer
	if pc.URI == "" {
		f.level, f.detail = levelSkip, "no printer configured for the "+string(env.cfg.Role)+" role"
		return f
	}
	prof, err := profiles.Lookup(pc.Profile)
	if err != nil {
		f.level, f.detail, f.todo = levelFail, err.Error(), "set [printer] profile to one of kioskctl printer-profiles"
		return f
	}
	ctx, cancel := context.WithTimeout(ctx, env.timeout)
	defer cancel()
	p, err := printer.Open(ctx, pc.URI, prof, printer.Options{StatusTimeout: env.timeout, Transports: env.transports})
	if err != nil {
		f.level, f.detail, f.todo = levelFail, err.Error(), "correct [printer] uri"
		return f
	}
	defer p.Close()
	st, err := p.Status(ctx)
	h := st.Health(err)
	switch {
	case st.Has(printer.Disconnected):
		f.level, f.detail = levelFail, fmt.Sprintf("%s cannot be reached: %s", pc.URI, h.Error)
		f.todo = "switch the printer on, check its cable (USB, serial or network) and that [printer] uri names it"
	case st.Has(printer.NotAnswering):
		f.level, f.detail = levelFail, fmt.Sprintf("%s does not answer status requests: %s", pc.URI, h.Error)
		f.todo = "power the printer off and on; check the serial speed (baud=) matches the printer's"
	case h.PaperOut:
		f.level, f.detail, f.todo = levelFail, pc.URI+": paper out", "load a new roll of paper"
	case h.CoverOpen:
		f.level, f.detail, f.todo = levelFail, pc.URI+": cover open", "close the printer's cover"
	case h.CutterError:
		f.level, f.detail, f.todo = levelFail, pc.URI+": cutter error", "open the cover, clear the paper from the cutter, close it; power-cycle the printer if it stays"
	case !h.Online && h.Error != "" && !st.Has(printer.NoStatus):
		f.level, f.detail, f.todo = levelFail, pc.URI+": "+h.Error, "power the printer off and on; if it stays, it needs service"
	case st.Has(printer.NoStatus):
		f.level, f.detail = levelWarn, pc.URI+": the line has no way back, so the printer's status is unknown"
		f.todo = "use a two-way connection (usb://, serial://, tcp://) so the kiosk sees paper and cover faults"
	case h.PaperNearEnd:
		f.level, f.detail, f.todo = levelWarn, pc.URI+": online, paper near end", "put a new roll in soon"
	default:
		f.level, f.detail = levelOK, pc.URI+": online, cover closed, paper in"
	}
	return f
}

// sound: a speaker's ALSA device opens (the hall's role).
func (env diagEnv) sound() finding {
	f := finding{check: "sound"}
	if env.cfg.Role != config.RoleHall || !env.cfg.Sound.Enabled {
		f.level, f.detail = levelSkip, "no speaker configured for the "+string(env.cfg.Role)+" role"
		return f
	}
	cards := env.machine.SoundCards()
	if len(cards) == 0 {
		f.level, f.detail = levelFail, "no sound card (/proc/asound/cards lists none)"
		f.todo = "plug in the speaker's USB sound card or enable the onboard audio (dtparam=audio=on in config.txt)"
		return f
	}
	dev := filepath.Join("/dev/snd", fmt.Sprintf("pcmC%dD0p", cards[0].Index))
	pcm, err := os.OpenFile(dev, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		f.level, f.detail = levelFail, fmt.Sprintf("%s (%s) does not open: %v", dev, cards[0].Name, err)
		f.todo = "add kioskd's user to the audio group, or stop the program holding the device"
		return f
	}
	pcm.Close()
	f.level, f.detail = levelOK, fmt.Sprintf("%s (%s) opens", dev, cards[0].Name)
	return f
}

// network: the machine's address towards the server and its default
// route.
func (env diagEnv) network() finding {
	f := finding{check: "network"}
	addr, err := machine.AddressTowardsURL(env.cfg.Server.URL)
	if err != nil {
		f.level, f.detail = levelFail, fmt.Sprintf("no route to the server %s: %v", env.cfg.Server.URL, err)
		f.todo = "check the network cable or Wi-Fi, and that DHCP gave this machine an address (ip addr)"
		return f
	}
	f.level, f.detail = levelOK, "address "+addr
	if rt, ok := env.machine.DefaultRoute(); ok {
		f.detail += fmt.Sprintf(", default route via %s on %s", rt.Gateway, rt.Interface)
	} else {
		f.level = levelWarn
		f.detail += ", no default route"
		f.todo = "fine if the server is on this network; otherwise check the router (DHCP's gateway)"
	}
	return f
}

// server: /healthz answers, the device's token is accepted; the clock
// is compared with the server's Date header on the way.
func (env diagEnv) server(ctx context.Context) []finding {
	srv, clock := finding{check: "server"}, finding{check: "clock"}
	ctx, cancel := context.WithTimeout(ctx, env.timeout)
	defer cancel()
	url := strings.TrimSuffix(env.cfg.Server.URL, "/") + "/healthz"
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		srv.level, srv.detail, srv.todo = levelFail, err.Error(), "correct [server] url"
		clock.level, clock.detail = levelSkip, "the server cannot be asked the time"
		return []finding{srv, clock}
	}
	sent := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		srv.level, srv.detail = levelFail, fmt.Sprintf("%s does not answer: %v", env.cfg.Server.URL, err)
		srv.todo = "check the server is running and [server] url is right; a firewall must let this machine reach it"
		clock.level, clock.detail = levelSkip, "the server cannot be asked the time"
		return []finding{srv, clock}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	recv := time.Now()
	clock = clockFinding(resp.Header.Get("Date"), sent, recv)
	if resp.StatusCode != http.StatusOK {
		srv.level, srv.detail = levelFail, fmt.Sprintf("%s answers %s: not a Numerek server, or not working", url, resp.Status)
		srv.todo = "check [server] url names the queue server, not a proxy's or portal's page"
		return []finding{srv, clock}
	}
	// A clock of its own, as kioskd's: a proof refused for the device's
	// time teaches it the server's before the one retry.
	client, err := protocol.NewClient(env.cfg.Server.URL, env.cfg.Server.Office, env.cfg.Server.Token,
		protocol.ClientOptions{Key: env.key, Clock: replica.NewClock(0)})
	if err != nil {
		srv.level, srv.detail, srv.todo = levelFail, err.Error(), "correct [server] in the configuration"
		return []finding{srv, clock}
	}
	who, err := client.WhoAmI(ctx)
	var ae *protocol.APIError
	switch {
	case errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden):
		srv.level, srv.detail = levelFail, fmt.Sprintf("%s is reachable, but it refuses this device's token (%d)", env.cfg.Server.URL, ae.Status)
		srv.todo = "the token was revoked or mistyped: pair the device again, or put a token made for it in [server] token_file"
	case err != nil:
		srv.level, srv.detail, srv.todo = levelFail, err.Error(), "check the server's log"
	case who.Office != "" && who.Office != env.cfg.Server.Office:
		srv.level, srv.detail = levelFail, fmt.Sprintf("the token is for office %q, the configuration says %q", who.Office, env.cfg.Server.Office)
		srv.todo = "set [server] office to the token's office, or use this office's token"
	default:
		srv.level, srv.detail = levelOK, fmt.Sprintf("%s answers; the token is accepted: %s %q of office %s", env.cfg.Server.URL, who.Role, who.Device, who.Office)
	}
	return []finding{srv, clock}
}

// clockFinding compares the machine's clock with a server's Date header
// (one-second resolution) read between sent and recv.
func clockFinding(date string, sent, recv time.Time) finding {
	f := finding{check: "clock"}
	at, err := http.ParseTime(date)
	if err != nil {
		f.level, f.detail = levelWarn, fmt.Sprintf("the server sent no usable Date header (%q)", date)
		return f
	}
	mid := sent.Add(recv.Sub(sent) / 2)
	offset := at.Add(500 * time.Millisecond).Sub(mid).Round(time.Second) // Date drops the fraction
	abs := max(offset, -offset)
	f.detail = fmt.Sprintf("this machine's clock is %v from the server's", offset)
	if abs <= time.Second {
		// The Date header's whole seconds cannot tell 0 s from 1 s apart.
		f.detail = "this machine's clock agrees with the server's (to the second)"
	}
	switch {
	case abs >= protocol.ProofWindow:
		f.level = levelFail
		f.todo = "the server refuses a paired device's requests this far off: enable NTP (timedatectl set-ntp true) or set the time"
	case abs > 5*time.Second:
		f.level = levelWarn
		f.todo = "kioskd keeps the server's time itself, but enable NTP (timedatectl set-ntp true) so logs and proofs agree"
	default:
		f.level = levelOK
	}
	return f
}

// disk: free space on the data folder.
func (env diagEnv) disk() finding {
	f := finding{check: "disk"}
	dir := env.cfg.DataDir
	free, size, err := machine.Disk(dir)
	if err != nil {
		f.level, f.detail, f.todo = levelFail, err.Error(), "create the data folder (kioskd does at start) or correct data_dir"
		return f
	}
	f.detail = fmt.Sprintf("%s: %d MB free of %d MB", dir, free>>20, size>>20)
	switch {
	case free < 100<<20:
		f.level, f.todo = levelFail, "free space on the card: the journal and state need room (journalctl --vacuum-size=50M; remove old files)"
	case free < 500<<20 || free < size/20:
		f.level, f.todo = levelWarn, "free some space soon (journalctl --vacuum-size=50M)"
	default:
		f.level = levelOK
	}
	return f
}
