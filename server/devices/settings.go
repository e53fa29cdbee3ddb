package devices

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/numerek/numerek/protocol"
)

// InitialSettings is a new device's configuration at approval: its role,
// name and counter, the office's languages, and for each role what the
// examples in examples/devices start from (a kiosk's USB printer and
// number lease, a counter's small panel, a hall's sound, a locker's
// portrait touchscreen). A screen size the device reported is kept. The
// admin edits the rest on the device's page.
func InitialSettings(role, name string, counter int, languages []string, hw protocol.Hardware) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Settings of %s, made when it was paired; edit them on its page.\n\n", name)
	fmt.Fprintf(&b, "role = %s\n", strconv.Quote(role))
	fmt.Fprintf(&b, "name = %s\n", strconv.Quote(name))
	if len(languages) > 0 {
		quoted := make([]string, len(languages))
		for i, l := range languages {
			quoted[i] = strconv.Quote(l)
		}
		fmt.Fprintf(&b, "languages = [%s]\n", strings.Join(quoted, ", "))
	}
	w, h, ok := screenSize(hw.Screen)
	switch role {
	case "ticket":
		if !ok {
			w, h = 1920, 1080
		}
		fmt.Fprintf(&b, "\n[screen]\nwidth = %d\nheight = %d\nidle_timeout = \"40s\"\n", w, h)
		b.WriteString("\n[printer]\nuri = \"usb:///dev/usb/lp0\"\nmode = \"text\"\ncheck_every = \"10s\"\n")
		b.WriteString("\n[lease]\nsize = 20\nlow = 10\n")
	case "counter":
		if !ok {
			w, h = 800, 480
		}
		fmt.Fprintf(&b, "\n[screen]\nwidth = %d\nheight = %d\n", w, h)
		fmt.Fprintf(&b, "\n[counter]\nnumber = %d\n", counter)
	case "hall":
		if !ok {
			w, h = 1920, 1080
		}
		fmt.Fprintf(&b, "\n[screen]\nwidth = %d\nheight = %d\nblink = \"6s\"\n", w, h)
		b.WriteString("\n[sound]\nenabled = true\nannounce_within = \"2m\"\n")
	case "locker":
		if !ok {
			w, h = 1080, 1920
		}
		fmt.Fprintf(&b, "\n[screen]\nwidth = %d\nheight = %d\n", w, h)
		// Which locker of the office it is and which pins drive each
		// compartment only the technician who wired it knows.
		b.WriteString("\n# [locker] id = the office's locker, and a [[locker.compartment]] per door\n# with its pins: see docs/lockers.md and docs/kioskd.md.\n")
	}
	return b.String()
}

// screenSize reads Hardware.Screen ("1920x1080"); ok=false when it is
// not a size a device's settings accept.
func screenSize(s string) (w, h int, ok bool) {
	ws, hs, found := strings.Cut(s, "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !found || errW != nil || errH != nil || w < 320 || h < 240 || w > 8192 || h > 8192 {
		return 0, 0, false
	}
	return w, h, true
}
