package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Values are what a technician says about a new device; Template turns
// them into a commented configuration file.
type Values struct {
	Role    Role
	Name    string
	DataDir string
	// Languages in order; empty: all five, Polish first.
	Languages []string

	ServerURL string
	Office    string
	// Token or TokenFile: the token itself, or the file holding it.
	Token     string
	TokenFile string

	Width, Height, Rotation int
	WidthMM                 float64
	Windowed                bool
	WindowScale             float64
	Message                 string

	// Ticket kiosk.
	PrinterURI     string
	PrinterProfile string
	TechnicianPIN  string
	LeaseSize      int

	// Counter display.
	Counter int
	Pins    map[Button]string

	// Hall display.
	Sound bool

	// Pickup locker: its id in the office's configuration and its
	// compartments' wiring.
	LockerID     string
	Compartments []LockerCompartment

	StatusListen string
}

// Template writes a configuration file for v, with a comment on every
// setting. Check the result with Parse.
func Template(v Values) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	what := map[Role]string{
		RoleTicket:  "the ticket kiosk in the lobby: touch screen and ticket printer",
		RoleCounter: "the number display above a counter",
		RoleHall:    "the hall's big screen and speaker",
		RoleLocker:  "the document pickup locker: touch screen and compartments on GPIO",
	}[v.Role]
	w("# kioskd configuration: %s.\n# Check it with: kioskd --config FILE --check\n\n", what)
	w("role = %s  # ticket, counter, hall or locker\n", quote(string(v.Role)))
	if v.Name != "" {
		w("name = %s  # names the device in logs and in faults staff see\n", quote(v.Name))
	}
	if v.DataDir != "" {
		w("data_dir = %s  # the device's own file: last state, journal, leases\n", quote(v.DataDir))
	}
	if len(v.Languages) > 0 {
		quoted := make([]string, len(v.Languages))
		for i, l := range v.Languages {
			quoted[i] = quote(l)
		}
		if v.Role == RoleTicket {
			w("languages = [%s]  # the language buttons, in order; the first is the default\n", strings.Join(quoted, ", "))
		} else {
			w("languages = [%s]  # the first is the screen's language\n", strings.Join(quoted, ", "))
		}
	}
	if v.Role == RoleTicket && v.TechnicianPIN != "" {
		w("technician_pin = %s  # tap the four corners clockwise from the top left, then this PIN\n", quote(v.TechnicianPIN))
	}

	w("\n[server]\n")
	w("url = %s\n", quote(v.ServerURL))
	w("office = %s\n", quote(v.Office))
	if v.TokenFile != "" {
		w("token_file = %s  # made with: queue-server token --role %s ...\n", quote(v.TokenFile), v.Role)
	} else {
		w("token = %s  # made with: queue-server token --role %s ...\n", quote(v.Token), v.Role)
	}
	if v.Role == RoleTicket {
		w("issue_timeout = \"1.5s\"  # past this the kiosk issues from its number lease\n")
	}

	w("\n[screen]\n")
	if v.Width > 0 && v.Height > 0 {
		w("width = %d\nheight = %d\n", v.Width, v.Height)
	} else if v.Role == RoleCounter {
		w("width = 800\nheight = 480\n")
	} else if v.Role == RoleLocker {
		w("width = 1280\nheight = 800\n")
	} else {
		w("width = 1920\nheight = 1080\n")
	}
	w("rotation = %d  # 0, 90, 180 or 270: turns the picture for a panel mounted on its side\n", v.Rotation)
	switch {
	case v.WidthMM > 0:
		w("width_mm = %s  # visible width of the panel, for finger-sized buttons\n", strconv.FormatFloat(v.WidthMM, 'f', -1, 64))
	case v.Role == RoleCounter && v.Width == 0:
		w("width_mm = 154  # visible width of the panel (7-inch)\n")
	}
	if v.Windowed {
		scale := v.WindowScale
		if scale <= 0 {
			scale = 1
		}
		w("windowed = true  # a window instead of the whole screen: for development and demos\n")
		w("window_scale = %s\n", strconv.FormatFloat(scale, 'f', -1, 64))
	}
	if v.Role == RoleTicket {
		w("idle_timeout = \"40s\"  # back to the start screen in the default language\n")
	}
	if v.Role == RoleHall {
		w("message = %s  # the bottom line\n", quote(v.Message))
	}

	switch v.Role {
	case RoleTicket:
		profile := v.PrinterProfile
		if profile == "" {
			profile = "tm-t20ii"
		}
		w("\n[printer]\n")
		w("uri = %s  # serial:///dev/ttyUSB0?baud=19200, usb:///dev/usb/lp0, tcp://10.0.0.5:9100, emulator:///folder\n", quote(v.PrinterURI))
		w("profile = %s  # kioskctl printer-profiles lists them\n", quote(profile))
		w("mode = \"text\"  # text, or raster to draw every line\n")
		w("check_every = \"10s\"  # how often the printer's status is read while idle\n")
		size := v.LeaseSize
		if size <= 0 {
			size = 20
		}
		w("\n[lease]  # numbers kept per service for issuing while the server cannot be reached\n")
		w("size = %d\nlow = %d  # ask for more below this\n", size, size/2)
	case RoleCounter:
		w("\n[counter]\nnumber = %d\n", v.Counter)
		if len(v.Pins) > 0 {
			w("\n[buttons]  # GPIO pins by periph.io name; leave a button out if it is not fitted\n")
			for _, btn := range AllButtons {
				if pin := v.Pins[btn]; pin != "" {
					w("%s = %s\n", btn, quote(pin))
				}
			}
			w("pressed = \"low\"  # low: buttons to ground, pull-ups on; high: buttons to 3.3 V\n")
			w("debounce = \"30ms\"\n")
		}
	case RoleHall:
		w("\n[sound]\n")
		w("enabled = %v\n", v.Sound)
		w("announce_within = \"2m\"  # calls older than this when the hall learns of them are shown, not said\n")
		w("# A quieter evening:\n# [[sound.volume]]\n# from = \"07:00\"\n# volume = 1.0\n# [[sound.volume]]\n# from = \"16:00\"\n# volume = 0.6\n")
	case RoleLocker:
		w("\n# Each compartment's lock relay and door sensor, pins by periph.io name.\n")
		w("# Check the wiring (kioskd stopped): kioskctl locker --config FILE [--open all]\n")
		w("[locker]\nid = %s  # the [[office.locker]] id in the office's configuration\n", quote(v.LockerID))
		for _, c := range v.Compartments {
			level := "high"
			if c.DoorClosedLow {
				level = "low"
			}
			pulse := c.Pulse
			if pulse <= 0 {
				pulse = 500 * time.Millisecond
			}
			w("\n[[locker.compartment]]\nid = %s  # as painted on its door\n", quote(c.ID))
			w("lock_pin = %s  # the lock's relay, by periph.io name\n", quote(c.LockPin))
			w("door_pin = %s  # the door's sensor\n", quote(c.DoorPin))
			w("door_closed_level = %s  # what the sensor's pin reads while the door is closed\n", quote(level))
			w("pulse = %s  # how long the relay is held\n", quote(pulse.String()))
		}
	}
	if v.StatusListen != "" {
		w("\n[status]\nlisten = %s  # a JSON status page for this machine\n", quote(v.StatusListen))
	}
	return b.String()
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
