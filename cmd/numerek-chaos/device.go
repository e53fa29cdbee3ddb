package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/display/xwin"
)

// kioskd is a running kioskd and where its status page is.
type kioskd struct {
	*proc
	name   string
	config string
	status string
}

var (
	statusLine  = regexp.MustCompile(`msg="status page" .*listen=(\S+)`)
	kioskdReady = regexp.MustCompile(`msg="kioskd ready"`)
	statusHTTP  = &http.Client{Timeout: 3 * time.Second}
	// A 7-inch panel's screen: the run looks at no picture (it reads the
	// status pages), and Mesa's software GL, which draws the windows under
	// Xvfb, takes CPU in proportion to the pixels.
	windowedScreen = "windowed = true\nwidth = 800\nheight = 480\n"
)

// writeDeviceConfig writes a kioskd configuration for role in dir; extra
// is the role's own tables.
func writeDeviceConfig(dir, name, role, serverURL, tokenFile, extra string) (string, error) {
	cfg := fmt.Sprintf(`role = %q
name = %q
data_dir = %q
[server]
url = %q
office = %q
token_file = %q
[screen]
%s
[status]
listen = "127.0.0.1:0"
%s`, role, name, filepath.Join(dir, "data"), serverURL, officeID, tokenFile, windowedScreen, extra)
	path := filepath.Join(dir, name+".toml")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// startKioskd runs kioskd on a configuration and waits until it is ready.
func startKioskd(bin, config, name string, env []string, echo io.Writer) (*kioskd, error) {
	p, err := startProc("kioskd "+name, env, echo, bin, "--config", config)
	if err != nil {
		return nil, err
	}
	m, err := p.waitLog(statusLine, 30*time.Second)
	if err != nil {
		p.kill()
		return nil, err
	}
	if _, err := p.waitLog(kioskdReady, 30*time.Second); err != nil {
		p.kill()
		return nil, err
	}
	return &kioskd{proc: p, name: name, config: config, status: m[1]}, nil
}

// devicePage is the part of kioskd's status page the run reads.
type devicePage struct {
	Follow     replica.FollowStatus `json:"follow"`
	RoleStatus json.RawMessage      `json:"role_status"`
}

func (k *kioskd) page() (devicePage, error) {
	var p devicePage
	resp, err := statusHTTP.Get("http://" + k.status + "/status")
	if err != nil {
		return p, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&p)
	return p, err
}

// kiosk reads a ticket kiosk's own part of the page.
func (k *kioskd) kiosk() (device.KioskStatus, error) {
	var ks device.KioskStatus
	p, err := k.page()
	if err != nil {
		return ks, err
	}
	err = json.Unmarshal(p.RoleStatus, &ks)
	return ks, err
}

// offers says whether the kiosk's screen offers target id now.
func (k *kioskd) offers(id string) bool {
	ks, err := k.kiosk()
	if err != nil {
		return false
	}
	for _, t := range ks.Targets {
		if t.ID == id && t.Enabled {
			return true
		}
	}
	return false
}

// tap touches target id on the kiosk's window, as kioskctl tap does: a
// click in the middle of the target, repeated only when the kiosk did not
// count it (so a tap is never taken twice).
func (k *kioskd) tap(id string) error {
	if err := waitFor(k.name+" offering "+id, 15*time.Second, func() bool { return k.offers(id) }); err != nil {
		return err
	}
	ks, err := k.kiosk()
	if err != nil {
		return err
	}
	for _, t := range ks.Targets {
		if t.ID != id || !t.Enabled {
			continue
		}
		win, err := xwin.Find(ks.Screen.Title, 10*time.Second)
		if err != nil {
			return err
		}
		p := ks.Screen.WindowPoint(t.Rect.Min.Add(t.Rect.Max).Div(2))
		for try := 1; try <= 3; try++ {
			if k.echo != nil {
				fmt.Fprintf(k.echo, "[chaos] %s tapping %s (try %d)\n", time.Now().Format("15:04:05.000"), id, try)
			}
			if err := win.Click(p.X, p.Y); err != nil {
				return err
			}
			if waitFor("the tap", 2*time.Second, func() bool {
				now, err := k.kiosk()
				return err == nil && now.Taps > ks.Taps
			}) == nil {
				return nil
			}
		}
		return fmt.Errorf("%s saw none of three clicks on %s", k.name, id)
	}
	return fmt.Errorf("%s no longer offers %s", k.name, id)
}
