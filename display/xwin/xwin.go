// Package xwin drives X windows as a person at the screen does, through
// xdotool and the X protocol: clicks held like a finger's touch, typing
// like a keyboard or a barcode scanner, a window manager's request to
// close. kioskctl taps a running kiosk with it, and the tests drive their
// windows with it.
package xwin

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Window is an X window found by its title.
type Window struct {
	ID string
	// Display is the X display the window is on (":3"); empty is $DISPLAY.
	Display string
}

// Find waits for a shown window titled exactly title on $DISPLAY; with no
// timeout it looks once.
func Find(title string, timeout time.Duration) (Window, error) {
	return FindOn("", title, timeout)
}

// FindOn is Find on the X display named display (empty is $DISPLAY): tests
// that run side by side each give their windows an X server of their own.
func FindOn(display, title string, timeout time.Duration) (Window, error) {
	deadline := time.Now().Add(timeout)
	for {
		out, err := command(display, "search", "--onlyvisible", "--name", "^"+title+"$").Output()
		if err == nil {
			if f := strings.Fields(string(out)); len(f) > 0 {
				return Window{ID: f[0], Display: display}, nil
			}
		}
		if time.Now().After(deadline) {
			return Window{}, fmt.Errorf("no window titled %q after %v (is xdotool installed? %v)", title, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Click presses the left mouse button at x, y in the window's pixels and
// releases it 60 ms later, as a finger on a touchscreen does (a touch
// panel reports itself as a mouse).
func (w Window) Click(x, y int) error {
	// One xdotool for the whole click: a process each for the raise, the
	// press and the release took a test's tap three starts of xdotool and
	// three connections to the X server. Raised first: the click goes to
	// whatever window is on top where the pointer is, and without a window
	// manager windows may overlap. xdotool's sleeps hold the button and
	// leave the release its moment before the next event.
	return xdotool(w.Display, "windowraise", w.ID,
		"mousemove", "--window", w.ID, strconv.Itoa(x), strconv.Itoa(y), "mousedown", "1",
		"sleep", "0.06", "mouseup", "1", "sleep", "0.03")
}

// Type focuses the window and types s as a keyboard (or a barcode
// scanner) would; "\n" is Enter.
func (w Window) Type(s string) error {
	if err := xdotool(w.Display, "windowfocus", "--sync", w.ID); err != nil {
		return err
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if line != "" {
			if err := xdotool(w.Display, "type", "--delay", "8", line); err != nil {
				return err
			}
		}
		if i < len(lines)-1 {
			if err := xdotool(w.Display, "key", "Return"); err != nil {
				return err
			}
		}
	}
	return nil
}

// command is xdotool with args, on display (empty is $DISPLAY).
func command(display string, args ...string) *exec.Cmd {
	cmd := exec.Command("xdotool", args...)
	if display != "" {
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
	}
	return cmd
}

func xdotool(display string, args ...string) error {
	out, err := command(display, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xdotool %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Keys focuses the window and presses each key (xdotool key names, such
// as "Escape" or "alt+F4") as a keyboard would.
func (w Window) Keys(keys ...string) error {
	if err := xdotool(w.Display, "windowfocus", "--sync", w.ID); err != nil {
		return err
	}
	for _, k := range keys {
		if err := xdotool(w.Display, "key", "--clearmodifiers", k); err != nil {
			return err
		}
	}
	return nil
}

// Geometry is where the window is on the screen and how large.
func (w Window) Geometry() (image.Rectangle, error) {
	out, err := command(w.Display, "getwindowgeometry", "--shell", w.ID).Output()
	if err != nil {
		return image.Rectangle{}, fmt.Errorf("reading the geometry of window %s: %w", w.ID, err)
	}
	v := shellValues(string(out))
	return image.Rect(v["X"], v["Y"], v["X"]+v["WIDTH"], v["Y"]+v["HEIGHT"]), nil
}

// ScreenSize is the size of the X screen of $DISPLAY.
func ScreenSize() (image.Point, error) { return ScreenSizeOn("") }

// ScreenSizeOn is the size of the X screen of display (empty is $DISPLAY).
func ScreenSizeOn(display string) (image.Point, error) {
	out, err := command(display, "getdisplaygeometry", "--shell").Output()
	if err != nil {
		return image.Point{}, fmt.Errorf("reading the display's size: %w", err)
	}
	v := shellValues(string(out))
	return image.Pt(v["WIDTH"], v["HEIGHT"]), nil
}

// shellValues reads xdotool's --shell output (NAME=number lines).
func shellValues(out string) map[string]int {
	v := map[string]int{}
	for _, line := range strings.Fields(out) {
		name, num, ok := strings.Cut(line, "=")
		if n, err := strconv.Atoi(num); ok && err == nil {
			v[name] = n
		}
	}
	return v
}

// RequestClose asks the window to close the way a window manager does on
// Alt+F4 or its close button: a WM_DELETE_WINDOW message from the
// WM_PROTOCOLS the window takes part in.
func (w Window) RequestClose() error {
	id, err := strconv.ParseUint(w.ID, 10, 32)
	if err != nil {
		return fmt.Errorf("window id %q: %w", w.ID, err)
	}
	conn, err := xgb.NewConnDisplay(w.Display)
	if err != nil {
		return fmt.Errorf("connecting to the X server: %w", err)
	}
	defer conn.Close()
	atom := func(name string) (xproto.Atom, error) {
		r, err := xproto.InternAtom(conn, false, uint16(len(name)), name).Reply()
		if err != nil {
			return 0, fmt.Errorf("looking up the X atom %s: %w", name, err)
		}
		return r.Atom, nil
	}
	protocols, err := atom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	deleteWindow, err := atom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	ev := xproto.ClientMessageEvent{
		Format: 32, Window: xproto.Window(id), Type: protocols,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{uint32(deleteWindow), uint32(xproto.TimeCurrentTime), 0, 0, 0}),
	}
	if err := xproto.SendEventChecked(conn, false, xproto.Window(id), xproto.EventMaskNoEvent, string(ev.Bytes())).Check(); err != nil {
		return fmt.Errorf("asking window %s to close: %w", w.ID, err)
	}
	return nil
}
