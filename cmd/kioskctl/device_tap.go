package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/display/xwin"
)

func runTap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tap", stderr)
	addr := fs.String("status", "127.0.0.1:7070", "the kiosk's status page ([status] listen)")
	list := fs.Bool("list", false, "list the targets of the screen now and tap nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kioskctl tap [--status ADDR] TARGET   (e.g. service:family, lang:uk, priority, done)\n       kioskctl tap --list\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if (fs.NArg() != 1) == !*list {
		fs.Usage()
		return errUsage
	}
	st, err := kioskStatus(ctx, *addr)
	if err != nil {
		return err
	}
	if *list {
		for _, t := range st.Targets {
			if t.Enabled {
				fmt.Fprintln(stdout, t.ID)
			}
		}
		return nil
	}
	want := fs.Arg(0)
	for _, t := range st.Targets {
		if t.ID != want || !t.Enabled {
			continue
		}
		center := st.Screen.WindowPoint(t.Rect.Min.Add(t.Rect.Max).Div(2))
		if err := click(st.Screen.Title, center.X, center.Y); err != nil {
			return err
		}
		if err := waitForTap(ctx, *addr, st.Taps); err != nil {
			return fmt.Errorf("tapping %s at %d,%d of %s: %w", want, center.X, center.Y, st.Screen.Title, err)
		}
		fmt.Fprintf(stdout, "tapped %s at %d,%d of %s\n", want, center.X, center.Y, st.Screen.Title)
		return nil
	}
	var ids []string
	for _, t := range st.Targets {
		if t.Enabled {
			ids = append(ids, t.ID)
		}
	}
	return fmt.Errorf("no target %q on the kiosk's screen now; it has: %s", want, strings.Join(ids, " "))
}

// waitForTap waits until the kiosk has counted a tap more than before, so
// a click the window never received is reported, not taken for done.
func waitForTap(ctx context.Context, addr string, before int64) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, err := kioskStatus(ctx, addr)
		if err != nil {
			return err
		}
		if st.Taps > before {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the kiosk saw no tap within 2 s (is its window on display %q?)", os.Getenv("DISPLAY"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kioskStatus reads a running kiosk's status page.
func kioskStatus(ctx context.Context, addr string) (device.KioskStatus, error) {
	var page struct {
		Role       string             `json:"role"`
		RoleStatus device.KioskStatus `json:"role_status"`
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/status", nil)
	if err != nil {
		return device.KioskStatus{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return device.KioskStatus{}, fmt.Errorf("reading the kiosk's status page at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return device.KioskStatus{}, fmt.Errorf("reading the kiosk's status page at %s: %w", addr, err)
	}
	if page.Role != "ticket" {
		return device.KioskStatus{}, fmt.Errorf("%s is the status page of a %s device, not a ticket kiosk", addr, page.Role)
	}
	return page.RoleStatus, nil
}

// click presses the mouse at x, y of the window titled title for 60 ms, as
// a finger on a touch panel does (it reports itself as a mouse).
func click(title string, x, y int) error {
	win, err := xwin.Find(title, 0)
	if err != nil {
		return fmt.Errorf("on display %q: %w", os.Getenv("DISPLAY"), err)
	}
	return win.Click(x, y)
}
