package firstboot

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// DefaultTimezone is the zone of a card that names none: the offices
// Numerek is made for are in Poland.
const DefaultTimezone = "Europe/Warsaw"

// The network interfaces a device has: the Pi's Ethernet and Wi-Fi.
const (
	Ethernet = "eth0"
	Wifi     = "wlan0"
)

// generatedMark starts every file Run makes, and tells a kioskd.toml it
// wrote (and may write again) from one a person wrote.
const generatedMark = "# Made by kioskctl firstboot from numerek.txt"

// apply makes this boot's files from s.
func apply(opts Options, s *Settings) error {
	steps := []struct {
		what string
		do   func(Options, *Settings) error
	}{
		{"the host name", applyHostname},
		{"the time zone", applyTimezone},
		{"the network", applyNetwork},
		{"the Wi-Fi", applyWifi},
		{"the time servers", applyNTP},
		{"the SSH key", applySSHKey},
		{"kioskd's configuration", applyKioskd},
	}
	var errs []error
	for _, st := range steps {
		// One step failing does not keep the others from the device: a
		// bad time zone file should not cost the network.
		if err := st.do(opts, s); err != nil {
			errs = append(errs, fmt.Errorf("applying %s: %w", st.what, err))
		}
	}
	return errors.Join(errs...)
}

func applyHostname(opts Options, s *Settings) error {
	path := filepath.Join(opts.Data, HostnameFile)
	if s.Hostname == "" {
		return removeFile(path)
	}
	if err := writeFile(path, []byte(s.Hostname+"\n"), 0o644); err != nil {
		return err
	}
	if opts.SetHostname == nil {
		return nil
	}
	return opts.SetHostname(s.Hostname)
}

func applyTimezone(opts Options, s *Settings) error {
	zone := s.Timezone
	if zone == "" {
		zone = DefaultTimezone
	}
	if err := writeSymlink(filepath.Join(opts.Data, LocaltimeFile), filepath.Join(opts.Zoneinfo, zone)); err != nil {
		return err
	}
	return writeFile(filepath.Join(opts.Data, "etc/timezone"), []byte(zone+"\n"), 0o644)
}

// networkFile is the name of an interface's systemd-networkd file.
func networkFile(iface string) string { return "10-numerek-" + iface + ".network" }

// applyNetwork writes systemd-networkd's files: DHCP on each interface,
// or the fixed address on the one the device uses (Wi-Fi when a network
// is named, else Ethernet), the other still asking DHCP.
func applyNetwork(opts Options, s *Settings) error {
	dir := filepath.Join(opts.Run, NetworkDir)
	fixedOn := Ethernet
	if s.WifiSSID != "" {
		fixedOn = Wifi
	}
	for _, iface := range []string{Ethernet, Wifi} {
		path := filepath.Join(dir, networkFile(iface))
		if iface == Wifi && s.WifiSSID == "" {
			if err := removeFile(path); err != nil {
				return err
			}
			continue
		}
		if err := writeFile(path, networkUnit(s, iface, iface == fixedOn && s.Address.IsValid()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func networkUnit(s *Settings, iface string, fixed bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s at every boot.\n[Match]\nName=%s\n\n[Network]\n", generatedMark, iface)
	if fixed {
		fmt.Fprintf(&b, "Address=%s\n", s.Address)
		if s.Gateway.IsValid() {
			fmt.Fprintf(&b, "Gateway=%s\n", s.Gateway)
		}
	} else {
		b.WriteString("DHCP=yes\n")
	}
	for _, d := range s.DNS {
		fmt.Fprintf(&b, "DNS=%s\n", d)
	}
	return b.Bytes()
}

// applyWifi writes wpa_supplicant's configuration of wlan0 (0600: it
// holds the key), or removes it when no network is named. The name and
// the key are written in hex, so no character of theirs needs quoting.
func applyWifi(opts Options, s *Settings) error {
	path := filepath.Join(opts.Run, WpaSupplicantFile)
	if s.WifiSSID == "" {
		return removeFile(path)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s at every boot.\nctrl_interface=DIR=/run/wpa_supplicant\nupdate_config=0\ncountry=%s\n\nnetwork={\n\tssid=%s\n\tscan_ssid=1\n",
		generatedMark, s.WifiCountry, hex.EncodeToString([]byte(s.WifiSSID)))
	switch {
	case s.WifiPassphrase == "":
		b.WriteString("\tkey_mgmt=NONE\n")
	default:
		psk, err := wpaPSK(s.WifiPassphrase, s.WifiSSID)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\tkey_mgmt=WPA-PSK\n\tpsk=%s\n", psk)
	}
	b.WriteString("}\n")
	return writeFile(path, b.Bytes(), 0o600)
}

// wpaPSK is the 256-bit key of a WPA passphrase (IEEE 802.11i: PBKDF2
// with SHA-1, the SSID as salt, 4096 rounds), in hex; 64 hex digits are
// the key already.
func wpaPSK(passphrase, ssid string) (string, error) {
	if len(passphrase) == 64 {
		return strings.ToLower(passphrase), nil
	}
	key, err := pbkdf2.Key(sha1.New, passphrase, []byte(ssid), 4096, 32)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(key), nil
}

// applyNTP writes systemd-timesyncd's drop-in with the time servers, or
// removes it (the image's own servers, or DHCP's).
func applyNTP(opts Options, s *Settings) error {
	path := filepath.Join(opts.Run, TimesyncdFile)
	if len(s.NTP) == 0 {
		return removeFile(path)
	}
	return writeFile(path, fmt.Appendf(nil, "%s at every boot.\n[Time]\nNTP=%s\n", generatedMark, strings.Join(s.NTP, " ")), 0o644)
}

// applySSHKey keeps the technician's key where the image's sshd looks
// for it; without one the file goes, and with it SSH (the image starts
// sshd only when the file exists).
func applySSHKey(opts Options, s *Settings) error {
	path := filepath.Join(opts.Data, AuthorizedKeysFile)
	if s.SSHKey == "" {
		return removeFile(path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFile(path, []byte(s.SSHKey+"\n"), 0o600)
}

// KioskdStatusListen is where the kioskd.toml firstboot writes serves
// kioskd's status page.
const KioskdStatusListen = "127.0.0.1:7070"

// applyKioskd writes kioskd's file of a device that pairs, when there is
// none, or when the one there is firstboot's own and the card now names
// another server. A file a person wrote is never touched.
func applyKioskd(opts Options, s *Settings) error {
	path := filepath.Join(opts.Data, KioskdFile)
	want := KioskdConfig(s.Server)
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case bytes.Equal(old, want) || !ownKioskdConfig(old):
		return nil
	}
	return writeFile(path, want, 0o644)
}

// ownKioskdConfig reports whether a kioskd.toml is one KioskdConfig
// made, unedited.
func ownKioskdConfig(data []byte) bool {
	m := kioskdURL.FindSubmatch(data)
	if m == nil {
		return false
	}
	url, err := strconv.Unquote(string(m[1]))
	return err == nil && bytes.Equal(data, KioskdConfig(url))
}

var kioskdURL = regexp.MustCompile(`(?m)^url = ("[^"\n]*")$`)

// KioskdConfig is the kioskd.toml of a device that pairs with server
// (empty: found by DNS-SD), sending the card's enrolment secret when
// there is one.
func KioskdConfig(server string) []byte {
	if server == "" {
		server = DiscoverServer
	}
	return fmt.Appendf(nil, `%s (server), once: edit it and it
# is yours (docs/numerek-txt.md). Without an office and a token kioskd
# pairs with the server (docs/devices.md).

data_dir = "/var/lib/kioskd"

[server]
url = %s
# The batch's enrolment secret from numerek.txt, when it gave one: the
# device is then approved without an admin typing its code.
enrolment_file = %s

[status]
listen = %s
`, generatedMark, strconv.Quote(server), strconv.Quote(filepath.Base(EnrolmentFile)), strconv.Quote(KioskdStatusListen))
}
