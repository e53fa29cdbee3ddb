package device

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/numerek/numerek/device/machine"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/protocol"
)

// health is the device's health reporting: every protocol.HealthEvery
// (or as the server's HealthAck says) it posts a protocol.HealthReport;
// the status page shows the last one. A report that cannot be delivered
// is logged once and tried again at the next interval: reporting never
// holds up the device's work.
type health struct {
	d       *dev
	machine machine.Reader
	started time.Time // device clock, with its monotonic reading

	// The role's parts, set while the role is built; nil where the role
	// has none.
	printer  func() *protocol.PrinterHealth
	lastCall func() *protocol.LastCall
	locker   func() *protocol.LockerHealth
	// screen is the role's screen and alive whether its loop turns
	// (the watchdog's view), once the screen exists.
	screen display.Screen
	alive  func() bool

	// wake asks for a report now (an update's step).
	wake chan struct{}
	// delivered is set once the server has answered a report.
	delivered atomic.Bool

	mu   sync.Mutex
	last HealthStatus
}

// HealthStatus is the last health report and how its sending went: the
// status page's "health".
type HealthStatus struct {
	Report protocol.HealthReport `json:"report"`
	// Sent is when the report was delivered; Error why it was not.
	Sent  time.Time `json:"sent,omitzero"`
	Error string    `json:"error,omitempty"`
}

func newHealth(d *dev) *health {
	m := d.opts.Machine
	if m.Root == nil {
		m = machine.Local()
	}
	return &health{d: d, machine: m, started: time.Now(), wake: make(chan struct{}, 1)}
}

// now asks for a report at once, without waiting.
func (h *health) now() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// report is how the device is now. Its times are on the server's clock
// (the device's Clock), as the server compares them with its own.
func (h *health) report(ctx context.Context) protocol.HealthReport {
	d := h.d
	up := time.Since(h.started)
	now, offset := d.clock.Now(), d.clock.Offset()
	r := protocol.HealthReport{
		Version: d.opts.Version, Role: string(d.cfg.Role), Name: d.cfg.Name,
		Started: now.Add(-up).Truncate(time.Second), UptimeS: int64(up / time.Second),
		Hardware:      h.machine.Hardware(),
		TemperatureC:  h.machine.TemperatureC(),
		ClockOffsetMS: offset.Milliseconds(),
	}
	r.Address, _ = machine.AddressTowardsURL(d.cfg.Server.URL)
	if th, err := h.machine.Throttled(ctx); err != nil {
		d.log.Debug("reading the throttling", "err", err)
	} else {
		r.Throttled = th
	}
	if free, size, err := machine.Disk(d.cfg.DataDir); err == nil {
		r.DiskFreeBytes, r.DiskSizeBytes = free, size
	}
	fs := d.follower.Status()
	r.Stream = protocol.StreamHealth{Connected: fs.Online, Seq: fs.Seq, LagMS: fs.LagMS}
	sc := d.cfg.Screen
	r.Hardware.Screen = fmt.Sprintf("%dx%d", sc.Width, sc.Height)
	r.Screen = protocol.ScreenHealth{Width: sc.Width, Height: sc.Height}
	h.mu.Lock()
	screen, alive, printer, lastCall, locker := h.screen, h.alive, h.printer, h.lastCall, h.locker
	h.mu.Unlock()
	if screen != nil {
		loop := display.LoopOf(screen)
		r.Screen.Drawing = loop.Running && (alive == nil || alive())
		if !loop.LastFrame.IsZero() {
			r.Screen.LastFrame = loop.LastFrame.Add(offset).Round(0)
		}
	}
	if printer != nil {
		r.Printer = printer()
		r.Hardware.Printer = r.Printer.Online
	}
	if lastCall != nil {
		r.LastCall = lastCall()
	}
	if locker != nil {
		r.Locker = locker()
	}
	if d.updater != nil {
		r.System = d.updater.agent.System()
	}
	return r
}

// setRole records the role's parts of the report.
func (h *health) setRole(printer func() *protocol.PrinterHealth, lastCall func() *protocol.LastCall) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.printer, h.lastCall = printer, lastCall
}

// setLocker records the locker's doors for the report.
func (h *health) setLocker(locker func() *protocol.LockerHealth) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.locker = locker
}

// setScreen records the screen and how to tell that its loop turns.
func (h *health) setScreen(s display.Screen, alive func() bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.screen, h.alive = s, alive
}

// status is the last report and how its sending went; a report made now
// before the first is sent.
func (h *health) status(ctx context.Context) HealthStatus {
	h.mu.Lock()
	last := h.last
	h.mu.Unlock()
	if last.Report.Version == "" && last.Report.Name == "" {
		last.Report = h.report(ctx)
		last.Error = "not sent yet"
	}
	return last
}

// run reports until ctx ends: at once, then every interval.
func (h *health) run(ctx context.Context) error {
	every := h.d.opts.HealthEvery
	if every <= 0 {
		every = protocol.HealthEvery
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-h.wake:
		}
		rctx, cancel := context.WithTimeout(ctx, min(every, 10*time.Second))
		r := h.report(rctx)
		ack, err := h.d.client.ReportHealth(rctx, r)
		cancel()
		st := HealthStatus{Report: r}
		switch {
		case err != nil:
			st.Error = err.Error()
			if !failing && ctx.Err() == nil {
				h.d.log.Warn("health report not delivered; trying again at each interval", "every", every, "err", err)
			}
			failing = true
		default:
			st.Sent = time.Now()
			if failing {
				h.d.log.Info("health reports delivered again")
			}
			failing = false
			h.delivered.Store(true)
			if r.Screen.Drawing && h.d.updater != nil {
				h.d.updater.markHealthy()
			}
			if ack.EverySeconds > 0 {
				every = time.Duration(ack.EverySeconds) * time.Second
			}
		}
		h.mu.Lock()
		h.last = st
		h.mu.Unlock()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(every)
	}
}

// HealthText is a health report as a technician reads it on site, one
// thing a line.
func HealthText(st HealthStatus) string {
	r := st.Report
	var b strings.Builder
	line := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "%-12s "+format+"\n", append([]any{name + ":"}, args...)...)
	}
	line("device", "%s (%s), kioskd %s, up %v", r.Name, r.Role, r.Version, time.Duration(r.UptimeS)*time.Second)
	hw := r.Hardware
	line("hardware", "%s serial %s host %s, address %s", orUnknown(hw.Model), orUnknown(hw.Serial), orUnknown(hw.Hostname), orUnknown(r.Address))
	temp := "unknown"
	if r.TemperatureC != nil {
		temp = fmt.Sprintf("%.1f °C", *r.TemperatureC)
	}
	throttled := "none"
	if len(r.Throttled) > 0 {
		throttled = strings.Join(r.Throttled, ", ")
	}
	line("temperature", "%s, throttling: %s", temp, throttled)
	line("disk", "%s free of %s", bytesText(r.DiskFreeBytes), bytesText(r.DiskSizeBytes))
	conn := "disconnected"
	if r.Stream.Connected {
		conn = "connected"
	}
	line("stream", "%s, event %d, lag %d ms, clock offset %d ms", conn, r.Stream.Seq, r.Stream.LagMS, r.ClockOffsetMS)
	drawing := "NOT DRAWING"
	if r.Screen.Drawing {
		drawing = "drawing"
	}
	line("screen", "%s, %dx%d, last frame %s", drawing, r.Screen.Width, r.Screen.Height, timeText(r.Screen.LastFrame))
	if p := r.Printer; p != nil {
		var faults []string
		for _, f := range []struct {
			on   bool
			name string
		}{{!p.Online, "OFFLINE"}, {p.CoverOpen, "cover open"}, {p.PaperNearEnd, "paper near end"}, {p.PaperOut, "paper out"}, {p.CutterError, "cutter error"}} {
			if f.on {
				faults = append(faults, f.name)
			}
		}
		if p.Error != "" {
			faults = append(faults, p.Error)
		}
		state := "online"
		if len(faults) > 0 {
			state = strings.Join(faults, ", ")
		}
		line("printer", "%s (%s), last ticket %s at %s", state, p.URI, orUnknown(p.LastTicket), timeText(p.LastPrinted))
	}
	if c := r.LastCall; c != nil {
		line("last call", "%s to counter %d at %s", c.Ticket, c.Counter, timeText(c.At))
	}
	if l := r.Locker; l != nil {
		list := func(ids []string) string {
			if len(ids) == 0 {
				return "none"
			}
			return strings.Join(ids, ", ")
		}
		line("doors", "open %s; left open %s; lock failed %s; forced %s; %d reports pending",
			list(l.DoorsOpen), list(l.DoorsAlarm), list(l.LocksFailed), list(l.DoorsForced), l.Pending)
	}
	switch {
	case st.Error != "":
		line("report", "not delivered: %s", st.Error)
	default:
		line("report", "delivered at %s", timeText(st.Sent))
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format("2006-01-02 15:04:05")
}

func bytesText(n uint64) string {
	const gb = 1 << 30
	if n >= gb {
		return fmt.Sprintf("%.1f GB", float64(n)/gb)
	}
	return fmt.Sprintf("%d MB", n>>20)
}
