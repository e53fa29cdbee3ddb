package device

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
)

// Remote actions (docs/devices-remote.md): an admin asks on the server's
// page, the action comes on the device's own event stream (no inbound
// port, no SSH), the device carries it out and posts the result.

// CommandRunner runs a system command and returns what it printed; kioskd
// runs `systemctl reboot` through it, and a test sees the call instead.
type CommandRunner func(ctx context.Context, name string, args ...string) ([]byte, error)

// runSystem is the CommandRunner of a real device.
func runSystem(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

// ErrRestart is what Run returns when an admin asked kioskd to restart:
// kioskd then exits with its restart code and systemd, with the unit's
// Restart=always, starts it again.
var ErrRestart = errors.New("an admin asked kioskd to restart")

// identifyFor is how long the identity stays on the screen.
const identifyFor = 30 * time.Second

// actionTimeout bounds one action, within the server's 30 s after which
// it counts as timed out.
const actionTimeout = 20 * time.Second

// reportTimeout bounds telling the server how an action went.
const reportTimeout = 10 * time.Second

// remote carries out the remote actions one at a time, on its own
// goroutine: the stream's goroutine only hands them over.
type remote struct {
	d      *dev
	run    CommandRunner
	queued chan protocol.DeviceAction

	mu     sync.Mutex
	screen display.Screen
	// busy is the watchdog's Busy: nil until the screen runs.
	busy func(why string) (done func())
	// restart is set once a restart was asked: Run returns ErrRestart.
	restart bool
}

// remoteQueue is how many actions may wait; more are refused (an admin
// clicking faster than a device can act).
const remoteQueue = 8

func newRemote(d *dev, run CommandRunner) *remote {
	if run == nil {
		run = runSystem
	}
	return &remote{d: d, run: run, queued: make(chan protocol.DeviceAction, remoteQueue)}
}

// control takes the stream's control events; it never blocks.
func (r *remote) control(m sse.Message) {
	if m.Event != protocol.ActionEvent {
		return
	}
	var a protocol.DeviceAction
	if err := json.Unmarshal(m.Data, &a); err != nil || a.ID == "" {
		r.d.log.Warn("a remote action that cannot be read", "data", string(m.Data), "err", err)
		return
	}
	select {
	case r.queued <- a:
	default:
		r.d.log.Warn("remote action refused: too many waiting", "action", a.ID, "kind", a.Kind)
	}
}

// setScreen gives the actions the role's screen, once it is built.
func (r *remote) setScreen(s display.Screen, busy func(why string) (done func())) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.screen, r.busy = s, busy
}

func (r *remote) restartAsked() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.restart
}

// serve carries out the actions as they come until ctx ends.
func (r *remote) serve(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case a := <-r.queued:
			r.carryOut(ctx, a)
		}
	}
}

// carryOut does one action and reports how it went.
func (r *remote) carryOut(ctx context.Context, a protocol.DeviceAction) {
	log := r.d.log.With("action", a.ID, "kind", a.Kind)
	log.Info("remote action")
	actx, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	detail, err := r.do(actx, a)
	res := protocol.ActionResult{OK: err == nil, Detail: detail}
	if err != nil {
		res.Detail = err.Error()
		log.Warn("remote action failed", "err", err)
	}
	// The report has a time of its own: an action that ran out of time
	// (a screen that stalled) is still told to the admin as failed.
	rctx, cancelReport := context.WithTimeout(ctx, reportTimeout)
	defer cancelReport()
	if err := r.d.client.ReportAction(rctx, a.ID, res); err != nil {
		log.Error("reporting a remote action", "err", err)
	}
	if err == nil && a.Kind == protocol.ActionRestart {
		// Only once the server knows: the restart ends this process.
		r.mu.Lock()
		r.restart = true
		r.mu.Unlock()
		log.Info("restarting kioskd, as asked")
		r.d.quit()
	}
}

// do carries out a and returns what to tell the admin.
func (r *remote) do(ctx context.Context, a protocol.DeviceAction) (string, error) {
	r.mu.Lock()
	screen := r.screen
	r.mu.Unlock()
	switch a.Kind {
	case protocol.ActionRestart:
		return "restarting kioskd", nil
	case protocol.ActionUpdate:
		if err := r.d.updater.agent.Take(a); err != nil {
			return "", err
		}
		return "taken", nil
	case protocol.ActionReboot:
		if out, err := r.run(ctx, "systemctl", "reboot"); err != nil {
			return "", fmt.Errorf("systemctl reboot: %w: %s", err, strings.TrimSpace(string(out)))
		}
		return "rebooting", nil
	case protocol.ActionIdentify:
		if screen == nil {
			return "", errors.New("no screen")
		}
		id := r.identity(ctx)
		display.Identify(screen, id, identifyFor)
		return fmt.Sprintf("shown for %v", identifyFor), nil
	case protocol.ActionScreenshot:
		r.mu.Lock()
		busy := r.busy
		r.mu.Unlock()
		if busy != nil {
			// Reading the frame back stalls the loop for a frame: long
			// under software GL, longer under emulation.
			defer busy("a screenshot")()
		}
		return r.screenshot(ctx, screen, a.ID)
	case protocol.ActionTestPrint:
		if r.d.testPrint == nil {
			return "", errors.New("no printer")
		}
		if err := r.d.testPrint(ctx); err != nil {
			return "", fmt.Errorf("test print: %w", err)
		}
		return "test ticket printed", nil
	case protocol.ActionTestSound:
		if r.d.sound == nil {
			return "", errors.New("no speaker")
		}
		if err := r.d.sound.test(ctx, r.d.cfg.Languages[0]); err != nil {
			return "", fmt.Errorf("test sound: %w", err)
		}
		return "chime and words played", nil
	}
	return "", fmt.Errorf("kioskd %s does not know the action %q", r.d.opts.Version, a.Kind)
}

// screenshot sends the picture on screen now.
func (r *remote) screenshot(ctx context.Context, screen display.Screen, id string) (string, error) {
	if screen == nil {
		return "", errors.New("no screen")
	}
	frame, err := display.Grab(ctx, screen)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, frame); err != nil {
		return "", fmt.Errorf("encoding the screenshot: %w", err)
	}
	if err := r.d.client.PutScreenshot(ctx, id, buf.Bytes()); err != nil {
		return "", err
	}
	b := frame.Bounds()
	return fmt.Sprintf("%dx%d, %d bytes", b.Dx(), b.Dy(), buf.Len()), nil
}

// identity is what the screen shows of the device: its name, role, office
// and address, and a QR code to its page on the server.
func (r *remote) identity(ctx context.Context) display.Identity {
	cfg := r.d.cfg
	cat, lang := i18n.Messages(), cfg.Languages[0]
	id := display.Identity{Name: cfg.Name, Lines: []string{
		cat.T(lang, "device.identify.role", "role", string(cfg.Role)),
		cat.T(lang, "device.identify.office", "office", cfg.Server.Office),
	}}
	if addr := localAddress(cfg.Server.URL); addr != "" {
		id.Lines = append(id.Lines, cat.T(lang, "device.identify.address", "address", addr))
	}
	if who, err := r.d.client.WhoAmI(ctx); err == nil {
		id.URL = DevicePage(cfg.Server.URL, who.TokenID)
	} else {
		r.d.log.Warn("identify: the device's id is unknown, so no code to its page", "err", err)
	}
	return id
}

// DevicePage is the address of the device's page on the server.
func DevicePage(serverURL, deviceID string) string {
	return strings.TrimRight(serverURL, "/") + "/staff/devices/" + url.PathEscape(deviceID)
}

// localAddress is the device's own address on the way to the server (the
// one the office's network knows it by), or "" when there is no route.
// Dialling UDP sends nothing: it only picks the route.
func localAddress(serverURL string) string {
	u, err := url.Parse(serverURL)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	c, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return ""
	}
	defer c.Close()
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		return a.IP.String()
	}
	return ""
}
