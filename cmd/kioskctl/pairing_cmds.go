package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/identity"
	"github.com/numerek/numerek/protocol"
)

// pairingCommands are the kioskctl subcommands of a device's pairing.
func pairingCommands() []command {
	return []command{
		{name: "pairing", summary: "say whether the device is paired, with which server and office, and its key's fingerprint", run: runPairing},
		{name: "unpair", summary: "forget the device's credentials: at its next start kioskd pairs again", run: runUnpair},
	}
}

// dataFolder is the data folder of the device whose file is at path, or
// dir when given.
func dataFolder(path, dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	l, err := config.ReadLocal(path)
	if err != nil {
		return "", err
	}
	if l.ByHand {
		return "", fmt.Errorf("%s gives the office and the token by hand: this device does not pair", path)
	}
	return l.DataDir, nil
}

func runPairing(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("pairing", stderr)
	cfg := fs.String("config", "/etc/numerek/kioskd.toml", "the device's configuration file")
	data := fs.String("data", "", "the device's data folder (default: data_dir of --config)")
	status := fs.String("status", "", "a running kioskd's status page ([status] listen), to show the code it shows now")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := dataFolder(*cfg, *data)
	if err != nil {
		return err
	}
	pub, err := identity.PublicKey(dir)
	if err != nil {
		return err
	}
	if pub == nil {
		fmt.Fprintf(stdout, "key:      none yet (kioskd makes it at its first start in %s)\n", dir)
	} else {
		fmt.Fprintf(stdout, "key:      %s\n", protocol.Fingerprint(pub))
	}
	p, err := identity.LoadPaired(dir)
	switch {
	case errors.Is(err, identity.ErrCorrupt):
		fmt.Fprintf(stdout, "paired:   no: the credentials are damaged (%v); kioskd pairs again at its next start\n", err)
	case err != nil:
		return err
	case p == nil:
		fmt.Fprintln(stdout, "paired:   no")
	default:
		fmt.Fprintf(stdout, "paired:   yes, as device %s\nserver:   %s\noffice:   %s\nrole:     %s %q\n", p.DeviceID, p.ServerURL, p.Office, p.Role, p.Name)
		if s, found, _ := identity.LoadSettings(dir); found {
			fmt.Fprintf(stdout, "settings: revision %d\n", s.Revision)
		}
	}
	if *status == "" {
		return nil
	}
	st, err := readStatus(ctx, *status)
	if err != nil {
		return err
	}
	if st.Pairing != nil {
		fmt.Fprintf(stdout, "now:      %s\n", st.Pairing.State)
	} else {
		fmt.Fprintf(stdout, "now:      running as %s %q of office %s\n", st.Role, st.Name, st.Office)
	}
	return nil
}

func runUnpair(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("unpair", stderr)
	cfg := fs.String("config", "/etc/numerek/kioskd.toml", "the device's configuration file")
	data := fs.String("data", "", "the device's data folder (default: data_dir of --config)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := dataFolder(*cfg, *data)
	if err != nil {
		return err
	}
	p, err := identity.LoadPaired(dir)
	if err != nil && !errors.Is(err, identity.ErrCorrupt) {
		return err
	}
	if err := identity.Forget(dir); err != nil {
		return err
	}
	if p == nil {
		fmt.Fprintln(stdout, "The device was not paired; nothing to forget.")
		return nil
	}
	fmt.Fprintf(stdout, "Forgot the pairing as device %s of office %s at %s.\n"+
		"Restart kioskd (systemctl restart kioskd) to pair again, and revoke the device on %s/staff/devices: the server still knows its token.\n",
		p.DeviceID, p.Office, p.ServerURL, p.ServerURL)
	return nil
}

func readStatus(ctx context.Context, addr string) (device.Status, error) {
	var st device.Status
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/status", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("reading kioskd's status page at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}
