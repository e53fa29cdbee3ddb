package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

// Status is a device's state at a glance.
type Status string

// The statuses. A device whose last report is older than OfflineAfter is
// Offline, whatever its stream. Otherwise it is Online while it holds its
// event stream open on this server, and Disconnected while it does not
// (it reports, so it runs and reaches the server, but hears no calls or
// tickets: a proxy dropping streams, a stream that failed to reopen).
const (
	Online       Status = "online"
	Disconnected Status = "disconnected"
	Offline      Status = "offline"
)

// DefaultOfflineAfter is two report intervals and a grace of 15 s.
const DefaultOfflineAfter = 2*protocol.HealthEvery + 15*time.Second

// HealthOptions are a Health's parts and timings.
type HealthOptions struct {
	Clock func() time.Time
	// Every is how often devices are asked to report (default
	// protocol.HealthEvery); OfflineAfter how long a device may be
	// silent before it is Offline (default DefaultOfflineAfter).
	Every        time.Duration
	OfflineAfter time.Duration
	Limits       Limits
	// Presence says whether a device holds its stream open (the hub's
	// Presence); nil: never.
	Presence func(device string) Presence
	// Store keeps last reports and fault history across restarts; nil
	// keeps them in memory only.
	Store *store.FleetDB
	// FlushEvery is how often last-seen times and reports are written
	// (default 2 min); faults are written when they begin or end.
	FlushEvery time.Duration
	// Tick is how often Run looks for silent devices and alerts due
	// (default 10 s).
	Tick   time.Duration
	Alerts Alerts
	Log    *slog.Logger
}

// Alerts is who is told of a device's faults, and when.
type Alerts struct {
	// Sender takes the alerts (the outbox); nil tells nobody.
	Sender notice.Sender
	// Route is where an office's alerts go; a route without recipients
	// sends none.
	Route func(office string) AlertRoute
	// Debounce: a fault is told once it has lasted this long (default
	// 1 min), so a fault that comes and goes within a report or two
	// (a cover opened to change the roll) is not. FaultPaperOut is told at
	// once: the kiosk prints nothing until it is mended; so are a
	// locker's forced door and a door left open. FaultOffline
	// is told once the device has been silent for the route's
	// OfflineAfter.
	Debounce time.Duration
}

// AlertRoute is where one office's alerts go.
type AlertRoute struct {
	// To are the contacts: e-mail addresses and webhook URLs.
	To []string
	// Lang is the office's first language, the alerts' language.
	Lang string
	// OfflineAfter is how long a device is silent before it is told
	// (default 5 min).
	OfflineAfter time.Duration
}

// Alerted reports whether a fault of this code is told to the admins at
// all; the others are shown on the fleet page only.
func Alerted(code string) bool {
	switch code {
	case FaultOffline, FaultPaperNearEnd, FaultPaperOut, FaultPrinter, FaultCoverOpen, FaultDiskLow, FaultTooHot, FaultUpdate,
		FaultDoorOpen, FaultLockFailed, FaultDoorForced:
		return true
	}
	return false
}

// historyKept is how many past faults of a device are kept in memory for
// its page; older ones stay in the file until purged.
const historyKept = 100

// keepHistory is how long an ended fault is kept in the file.
const keepHistory = 90 * 24 * time.Hour

// Health keeps each device's last report, works out its status and its
// faults, keeps their history and tells the office's admins of the
// faults that need someone.
type Health struct {
	opts HealthOptions

	// alertMu orders the telling: a fault's end is never told before
	// its start (lock order: alertMu, writeMu, mu).
	alertMu sync.Mutex
	// writeMu orders writes of faults, so a later state of a fault is
	// never overwritten by an earlier one.
	writeMu sync.Mutex

	mu      sync.Mutex
	devices map[string]*tracked
	dirty   map[string]bool
}

type tracked struct {
	seen   store.DeviceSeen
	name   string
	report *protocol.HealthReport
	// open are the faults that last, by code; history the ended ones,
	// newest last.
	open    map[string]*store.FaultRecord
	history []store.FaultRecord
}

// NewHealth makes a Health, reading what the store kept.
func NewHealth(opts HealthOptions) (*Health, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Every <= 0 {
		opts.Every = protocol.HealthEvery
	}
	if opts.OfflineAfter <= 0 {
		opts.OfflineAfter = DefaultOfflineAfter
	}
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits
	}
	if opts.Presence == nil {
		opts.Presence = func(string) Presence { return Presence{} }
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 2 * time.Minute
	}
	if opts.Tick <= 0 {
		opts.Tick = 10 * time.Second
	}
	if opts.Alerts.Debounce <= 0 {
		opts.Alerts.Debounce = time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	h := &Health{opts: opts, devices: map[string]*tracked{}, dirty: map[string]bool{}}
	if err := h.load(); err != nil {
		return nil, err
	}
	return h, nil
}

// Reload forgets what is held in memory and reads the store again: a
// node taking the fleet over from another (docs/cluster.md) starts from
// what that one wrote.
func (h *Health) Reload() error {
	h.alertMu.Lock()
	defer h.alertMu.Unlock()
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.devices, h.dirty = map[string]*tracked{}, map[string]bool{}
	return h.load()
}

func (h *Health) load() error {
	st := h.opts.Store
	if st == nil {
		return nil
	}
	devs, err := st.Devices()
	if err != nil {
		return err
	}
	for _, d := range devs {
		t := h.device(d.ID)
		t.seen = d
		if len(d.Report) > 0 {
			var r protocol.HealthReport
			if json.Unmarshal(d.Report, &r) == nil {
				t.report = &r
				t.name = r.Name
			}
		}
		t.seen.Report = nil
		past, err := st.Faults(d.ID, historyKept)
		if err != nil {
			return err
		}
		for _, f := range past {
			if f.Open() {
				t.open[f.Code] = &f
			} else {
				t.history = append(t.history, f)
			}
		}
		slices.Reverse(t.history)
	}
	return nil
}

func (h *Health) device(id string) *tracked {
	t := h.devices[id]
	if t == nil {
		t = &tracked{seen: store.DeviceSeen{ID: id}, open: map[string]*store.FaultRecord{}}
		h.devices[id] = t
	}
	return t
}

// Forget drops a revoked device: it is no longer listed, nor its silence
// told to anyone (the admin ended it on purpose). Its open faults end,
// untold, with a note saying so; its history stays until purged.
func (h *Health) Forget(id string) error {
	h.alertMu.Lock() // no sweep tells of it meanwhile
	defer h.alertMu.Unlock()
	h.mu.Lock()
	t := h.devices[id]
	delete(h.devices, id)
	delete(h.dirty, id)
	var ended []*store.FaultRecord
	if t != nil {
		now := h.opts.Clock()
		for _, f := range t.open {
			f.End, f.Note = now, "the device was revoked"
			ended = append(ended, f)
		}
	}
	h.mu.Unlock()
	if err := h.writeFaults(ended); err != nil {
		return err
	}
	if h.opts.Store == nil {
		return nil
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	return h.opts.Store.DeleteDevice(id)
}

// Every is how often devices should report.
func (h *Health) Every() time.Duration { return h.opts.Every }

// Reporter is the device a report comes from, as its token says.
type Reporter struct {
	ID     string
	Office string
	Role   string
	// Name is the token's label, the name shown when the report gives
	// none.
	Name string
}

// Ingest takes a device's report: it is now the device's last, and the
// faults it shows begin, and those it no longer shows end (told to the
// admins if they were told of their start). An error means the faults'
// change could not be written; the report itself is kept.
func (h *Health) Ingest(ctx context.Context, from Reporter, r protocol.HealthReport) error {
	now := h.opts.Clock()
	found := ReportFaults(r, h.opts.Limits)
	h.mu.Lock()
	t := h.device(from.ID)
	if t.seen.LastSeen.IsZero() || now.Sub(t.seen.LastSeen) > h.opts.OfflineAfter {
		t.seen.RunStart = now
	}
	t.seen.Office, t.seen.Role, t.seen.LastSeen = from.Office, from.Role, now
	t.name = cmp.Or(r.Name, from.Name, from.ID)
	t.report = &r
	h.dirty[from.ID] = true
	var changed, ended []*store.FaultRecord
	for code, f := range t.open {
		if _, still := found[code]; still {
			continue
		}
		f.End, f.Note = now, clearedNote(code)
		delete(t.open, code)
		t.history = append(t.history, *f)
		if len(t.history) > historyKept {
			t.history = t.history[len(t.history)-historyKept:]
		}
		changed = append(changed, f)
		if f.Alerted {
			ended = append(ended, f)
		}
	}
	for code, detail := range found {
		if t.open[code] != nil {
			continue
		}
		f := &store.FaultRecord{Device: from.ID, Office: from.Office, Code: code, Start: now, Detail: detail}
		t.open[code] = f
		changed = append(changed, f)
	}
	name, role := t.name, t.seen.Role
	h.mu.Unlock()
	if len(changed) == 0 {
		return nil
	}
	if len(ended) > 0 {
		h.alertMu.Lock()
		for _, f := range ended {
			// Its end told or not, the fault is over; a failure is in the
			// log (the outbox failing to store is a disk failing).
			_ = h.tell(ctx, notice.DeviceAlertCleared, *f, name, role)
		}
		h.alertMu.Unlock()
	}
	return h.writeFaultsAndDevices(changed)
}

// writeFaultsAndDevices writes the faults and the devices' last reports
// with them: load reads the faults of the devices it finds, so a fault
// written without its device would be lost to a restart after a crash,
// or to the node taking the fleet over, which would then tell the
// admins of it again.
func (h *Health) writeFaultsAndDevices(recs []*store.FaultRecord) error {
	if len(recs) == 0 {
		return nil
	}
	if err := h.writeFaults(recs); err != nil {
		return err
	}
	return h.Flush()
}

// writeFaults writes the faults as they are now.
func (h *Health) writeFaults(recs []*store.FaultRecord) error {
	if h.opts.Store == nil {
		return nil
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	vals := make([]store.FaultRecord, len(recs))
	for i, f := range recs {
		vals[i] = *f
	}
	h.mu.Unlock()
	return h.opts.Store.PutFaults(vals)
}

// Sweep marks the devices silent too long offline and tells the admins
// of the faults that have lasted long enough. Run calls it every Tick;
// tests call it after moving their clock.
func (h *Health) Sweep(ctx context.Context) error {
	h.alertMu.Lock()
	defer h.alertMu.Unlock()
	now := h.opts.Clock()
	type due struct {
		ptr        *store.FaultRecord
		f          store.FaultRecord // as it was when found due
		name, role string
	}
	var changed []*store.FaultRecord
	var tell []due
	h.mu.Lock()
	for id, t := range h.devices {
		if !t.seen.LastSeen.IsZero() && now.Sub(t.seen.LastSeen) > h.opts.OfflineAfter && t.open[FaultOffline] == nil {
			f := &store.FaultRecord{Device: id, Office: t.seen.Office, Code: FaultOffline, Start: t.seen.LastSeen, Detail: "no report"}
			t.open[FaultOffline] = f
			changed = append(changed, f)
		}
		for _, f := range t.open {
			if !f.Alerted && h.dueToTell(*f, now) {
				f.Alerted = true
				changed = append(changed, f)
				tell = append(tell, due{f, *f, t.name, t.seen.Role})
			}
		}
	}
	h.mu.Unlock()
	for _, d := range tell {
		if err := h.tell(ctx, notice.DeviceAlert, d.f, d.name, d.role); err != nil {
			// Not told: the next sweep tries again (recipients already
			// told are not told twice, by the notice's key).
			h.mu.Lock()
			d.ptr.Alerted = false
			h.mu.Unlock()
		}
	}
	return h.writeFaultsAndDevices(changed)
}

// dueToTell reports whether the admins are told of f now.
func (h *Health) dueToTell(f store.FaultRecord, now time.Time) bool {
	a := h.opts.Alerts
	if a.Sender == nil || a.Route == nil || !Alerted(f.Code) {
		return false
	}
	route := a.Route(f.Office)
	if len(route.To) == 0 {
		return false
	}
	switch f.Code {
	case FaultPaperOut, FaultDoorForced, FaultDoorOpen:
		// A forced door is a break-in, and a door reported open has
		// already been open for the locker's DoorAlarm: staff go now.
		return true
	case FaultOffline:
		return now.Sub(f.Start) >= cmp.Or(route.OfflineAfter, 5*time.Minute)
	}
	return now.Sub(f.Start) >= a.Debounce
}

// tell hands one alert to each of the office's recipients, and says the
// first that failed. The key makes it idempotent: a restart or a retry
// never sends the same start or end of a fault twice.
func (h *Health) tell(ctx context.Context, kind notice.Kind, f store.FaultRecord, name, role string) error {
	a := h.opts.Alerts
	if a.Sender == nil || a.Route == nil {
		return nil
	}
	var failed error
	route := a.Route(f.Office)
	for _, to := range route.To {
		n := notice.Notice{
			Kind: kind, Office: f.Office, Lang: route.Lang, Contact: to,
			Device: &notice.DeviceFault{
				DeviceID: f.Device, Device: name, Role: role, Fault: f.Code, Detail: f.Detail,
				Since: f.Start, Cleared: f.End, Note: f.Note,
			},
			Key: string(kind) + "/" + f.Device + "/" + f.Code + "/" + f.Start.UTC().Format(time.RFC3339Nano) + "/" + to,
		}
		if err := a.Sender.Send(ctx, n); err != nil {
			h.opts.Log.Error("handing a device alert to the outbox", "office", f.Office, "device", f.Device, "fault", f.Code, "err", err)
			failed = cmp.Or(failed, err)
		}
	}
	return failed
}

// Flush writes every device's last-seen time and report changed since
// the last flush, in one transaction.
func (h *Health) Flush() error {
	if h.opts.Store == nil {
		return nil
	}
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	h.mu.Lock()
	devs := make([]store.DeviceSeen, 0, len(h.dirty))
	for id := range h.dirty {
		t := h.devices[id]
		d := t.seen
		if t.report != nil {
			d.Report, _ = json.Marshal(t.report)
		}
		devs = append(devs, d)
	}
	clear(h.dirty)
	h.mu.Unlock()
	return h.opts.Store.PutDevices(devs)
}

// Run sweeps every Tick and flushes every FlushEvery until ctx ends, then
// flushes once more.
func (h *Health) Run(ctx context.Context) {
	tick := time.NewTicker(h.opts.Tick)
	defer tick.Stop()
	flush := time.NewTicker(h.opts.FlushEvery)
	defer flush.Stop()
	purge := time.NewTicker(24 * time.Hour)
	defer purge.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := h.Flush(); err != nil {
				h.opts.Log.Error("writing the devices' last reports", "err", err)
			}
			return
		case <-tick.C:
			if err := h.Sweep(ctx); err != nil {
				h.opts.Log.Error("writing device faults", "err", err)
			}
		case <-flush.C:
			if err := h.Flush(); err != nil {
				h.opts.Log.Error("writing the devices' last reports", "err", err)
			}
		case <-purge.C:
			if h.opts.Store != nil {
				if _, err := h.opts.Store.PurgeFaults(h.opts.Clock().Add(-keepHistory)); err != nil {
					h.opts.Log.Error("purging old device faults", "err", err)
				}
			}
		}
	}
}

// DeviceHealth is one device as the fleet page shows it.
type DeviceHealth struct {
	ID     string `json:"id"`
	Office string `json:"office"`
	Role   string `json:"role"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Since is when the status began: the stream's opening or closing,
	// or the start of the current run of reports (Online,
	// Disconnected); the last report (Offline; zero: never heard from).
	Since    time.Time `json:"since,omitzero"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	// Report is the last report; nil if none came.
	Report *protocol.HealthReport `json:"report,omitempty"`
	// Faults are the faults that last, most serious first.
	Faults []store.FaultRecord `json:"faults"`
}

// Problem reports whether the device needs a look: offline,
// disconnected, or with a fault.
func (d DeviceHealth) Problem() bool { return d.Status != Online || len(d.Faults) > 0 }

// StatusOf works out a device's status at now from when it was last
// heard from, when its run of reports began, and its stream.
func StatusOf(lastSeen, runStart time.Time, p Presence, now time.Time, offlineAfter time.Duration) (Status, time.Time) {
	if lastSeen.IsZero() || now.Sub(lastSeen) > offlineAfter {
		return Offline, lastSeen
	}
	since := runStart
	if p.Since.After(since) {
		since = p.Since
	}
	if p.Connected {
		return Online, since
	}
	return Disconnected, since
}

func (h *Health) view(t *tracked, now time.Time) DeviceHealth {
	st, since := StatusOf(t.seen.LastSeen, t.seen.RunStart, h.opts.Presence(t.seen.ID), now, h.opts.OfflineAfter)
	d := DeviceHealth{
		ID: t.seen.ID, Office: t.seen.Office, Role: t.seen.Role, Name: cmp.Or(t.name, t.seen.ID),
		Status: st, Since: since, LastSeen: t.seen.LastSeen, Report: t.report, Faults: []store.FaultRecord{},
	}
	for _, f := range t.open {
		d.Faults = append(d.Faults, *f)
	}
	if st == Offline && t.open[FaultOffline] == nil && !t.seen.LastSeen.IsZero() {
		// Between two sweeps the page already says what the next one will.
		d.Faults = append(d.Faults, store.FaultRecord{Device: t.seen.ID, Office: t.seen.Office, Code: FaultOffline, Start: t.seen.LastSeen, Detail: "no report"})
	}
	slices.SortFunc(d.Faults, func(a, b store.FaultRecord) int { return cmp.Compare(severity(a.Code), severity(b.Code)) })
	return d
}

// rank orders devices on the fleet page: offline first, then those with
// faults (the most serious first), then disconnected, then the rest.
func rank(d DeviceHealth) (int, int) {
	worst := len(FaultCodes)
	if len(d.Faults) > 0 {
		worst = severity(d.Faults[0].Code)
	}
	switch {
	case d.Status == Offline:
		return 0, worst
	case len(d.Faults) > 0:
		return 1, worst
	case d.Status == Disconnected:
		return 2, worst
	}
	return 3, worst
}

// Devices lists the devices of the offices sees accepts, problems first,
// then by name.
func (h *Health) Devices(sees func(office string) bool) []DeviceHealth {
	now := h.opts.Clock()
	h.mu.Lock()
	out := make([]DeviceHealth, 0, len(h.devices))
	for _, t := range h.devices {
		if sees(t.seen.Office) {
			out = append(out, h.view(t, now))
		}
	}
	h.mu.Unlock()
	SortProblemsFirst(out)
	return out
}

// SortProblemsFirst orders devices as the fleet page lists them: offline
// first, then those with faults (the most serious first), then
// disconnected, then the rest; by name within each.
func SortProblemsFirst(ds []DeviceHealth) {
	slices.SortFunc(ds, func(a, b DeviceHealth) int {
		ra, wa := rank(a)
		rb, wb := rank(b)
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(wa, wb), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
}

// Device is one device's health and its past faults, newest first;
// found=false if it never reported.
func (h *Health) Device(id string) (d DeviceHealth, history []store.FaultRecord, found bool) {
	now := h.opts.Clock()
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.devices[id]
	if t == nil {
		return DeviceHealth{}, nil, false
	}
	history = slices.Clone(t.history)
	slices.Reverse(history)
	return h.view(t, now), history, true
}
