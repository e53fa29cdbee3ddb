package fleet

import (
	"fmt"
	"strings"
	"time"

	"github.com/numerek/numerek/protocol"
)

// The faults a device can have. All but FaultOffline are read from its
// reports; FaultOffline is the silence after them.
const (
	FaultOffline      = "offline"
	FaultPrinter      = "printer-error" // the printer is not online, or says an error
	FaultCoverOpen    = "cover-open"
	FaultPaperNearEnd = "paper-near-end"
	FaultPaperOut     = "paper-out"
	FaultCutter       = "cutter-error"
	FaultDiskLow      = "disk-low"
	FaultTooHot       = "too-hot"
	FaultThrottled    = "throttled"
	FaultClock        = "clock-off"
	FaultScreen       = "screen-not-drawing"
	FaultStreamLag    = "stream-lag"
	// FaultUpdate: the device's latest system update failed or was rolled
	// back; it lasts until an update succeeds (the office needs to know
	// its device still runs the old system).
	FaultUpdate = "update-failed"
	// A locker's doors (protocol.LockerHealth): FaultDoorOpen, a door open
	// longer than the locker's DoorAlarm; FaultLockFailed, a lock pulsed
	// whose door never opened; FaultDoorForced, a door opened without a
	// pulse. Each lasts while the device reports it.
	FaultDoorOpen   = "door-open"
	FaultLockFailed = "lock-failed"
	FaultDoorForced = "door-forced"
)

// FaultCodes lists every fault, most serious first (the order of a
// device's faults on the fleet page).
var FaultCodes = []string{
	FaultOffline, FaultDoorForced, FaultPaperOut, FaultPrinter, FaultCoverOpen, FaultCutter, FaultScreen,
	FaultDoorOpen, FaultLockFailed,
	FaultUpdate, FaultPaperNearEnd, FaultDiskLow, FaultTooHot, FaultThrottled, FaultClock, FaultStreamLag,
}

// Limits are where a report's figures become faults.
type Limits struct {
	// DiskLowPercent and DiskLowBytes: free space below either is low.
	DiskLowPercent float64
	DiskLowBytes   uint64
	// HotC: the SoC at or above this temperature is too hot.
	HotC float64
	// ClockOff: the device's clock further than this from the server's.
	ClockOff time.Duration
	// StreamLag: events folded in later than this after their commit.
	StreamLag time.Duration
}

// DefaultLimits: under 5 % or 200 MB free, 80 °C (the Raspberry Pi
// throttles at 80–85 °C), 5 s of clock (tickets and calls are stamped by
// the server, but a kiosk's offline tickets carry the device's time),
// 5 s of stream lag (a call seen 5 s late in the hall is noticed).
var DefaultLimits = Limits{DiskLowPercent: 5, DiskLowBytes: 200 << 20, HotC: 80, ClockOff: 5 * time.Second, StreamLag: 5 * time.Second}

// ReportFaults are the faults a report shows, each with a short detail,
// by code.
func ReportFaults(r protocol.HealthReport, l Limits) map[string]string {
	out := map[string]string{}
	if p := r.Printer; p != nil {
		switch {
		case p.Error != "":
			out[FaultPrinter] = p.Error
		case !p.Online:
			out[FaultPrinter] = "printer offline"
		}
		if p.CoverOpen {
			out[FaultCoverOpen] = "cover open"
		}
		switch {
		case p.PaperOut:
			out[FaultPaperOut] = "paper out"
		case p.PaperNearEnd:
			out[FaultPaperNearEnd] = "paper near end"
		}
		if p.CutterError {
			out[FaultCutter] = "cutter error"
		}
	}
	if r.DiskSizeBytes > 0 {
		pct := float64(r.DiskFreeBytes) * 100 / float64(r.DiskSizeBytes)
		if pct < l.DiskLowPercent || r.DiskFreeBytes < l.DiskLowBytes {
			out[FaultDiskLow] = fmt.Sprintf("%.1f %% free (%d MB)", pct, r.DiskFreeBytes>>20)
		}
	}
	if t := r.TemperatureC; t != nil && *t >= l.HotC {
		out[FaultTooHot] = fmt.Sprintf("%.1f °C", *t)
	}
	if len(r.Throttled) > 0 {
		out[FaultThrottled] = strings.Join(r.Throttled, ", ")
	}
	if off := time.Duration(r.ClockOffsetMS) * time.Millisecond; off > l.ClockOff || -off > l.ClockOff {
		out[FaultClock] = fmt.Sprintf("clock off by %.1f s", off.Seconds())
	}
	if !r.Screen.Drawing {
		out[FaultScreen] = "screen not drawing"
	}
	if sys := r.System; sys != nil && sys.Update != nil {
		switch u := sys.Update; u.State {
		case protocol.UpdateFailed, protocol.UpdateRolledBack:
			out[FaultUpdate] = strings.TrimSuffix(fmt.Sprintf("%s %s: %s", u.Version, u.State, u.Error), ": ")
		}
	}
	if lag := time.Duration(r.Stream.LagMS) * time.Millisecond; lag > l.StreamLag {
		out[FaultStreamLag] = fmt.Sprintf("stream lag %.1f s", lag.Seconds())
	}
	lockerFaults(r.Locker, out)
	return out
}

// lockerFaults adds a locker's door troubles, naming the compartments
// (numbers on the doors, nothing of who a document is for).
func lockerFaults(l *protocol.LockerHealth, out map[string]string) {
	if l == nil {
		return
	}
	for _, f := range []struct {
		code, what string
		doors      []string
	}{
		{FaultDoorOpen, "left open", l.DoorsAlarm},
		{FaultLockFailed, "did not open", l.LocksFailed},
		{FaultDoorForced, "opened without a code", l.DoorsForced},
	} {
		if len(f.doors) > 0 {
			out[f.code] = fmt.Sprintf("compartment %s %s", strings.Join(f.doors, ", "), f.what)
		}
	}
}

// clearedNote says how a fault ended, in the record (the pages and
// messages say it in their reader's language from the code).
func clearedNote(code string) string {
	switch code {
	case FaultOffline:
		return "the device reports again"
	case FaultPaperOut, FaultPaperNearEnd:
		return "the roll was changed"
	case FaultCoverOpen:
		return "the cover was closed"
	case FaultPrinter:
		return "the printer answers again"
	case FaultCutter:
		return "the cutter works again"
	case FaultDiskLow:
		return "there is space on the disk again"
	case FaultTooHot:
		return "the device cooled down"
	case FaultThrottled:
		return "the device is no longer throttled"
	case FaultClock:
		return "the clock is right again"
	case FaultScreen:
		return "the screen draws again"
	case FaultStreamLag:
		return "events arrive in time again"
	case FaultUpdate:
		return "a later update succeeded"
	case FaultDoorOpen:
		return "the door was closed"
	case FaultLockFailed:
		return "the door opened"
	case FaultDoorForced:
		return "staff opened the compartment with a code"
	}
	return "cleared"
}

// severity orders faults: lower is more serious.
func severity(code string) int {
	for i, c := range FaultCodes {
		if c == code {
			return i
		}
	}
	return len(FaultCodes)
}
