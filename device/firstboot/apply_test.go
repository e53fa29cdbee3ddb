package firstboot_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/firstboot"
)

// device is a device's card and partitions in temporary folders.
type device struct {
	t                   *testing.T
	boot, data, run, tz string
	hostname            string
	hostnameCalls       int
}

func newDevice(t *testing.T) *device {
	d := &device{t: t, boot: t.TempDir(), data: t.TempDir(), run: t.TempDir(), tz: zoneinfo(t)}
	return d
}

// card writes numerek.txt on the card as a technician's editor would.
func (d *device) card(text string) {
	d.t.Helper()
	if err := os.WriteFile(filepath.Join(d.boot, firstboot.FileName), []byte(text), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

func (d *device) cardText() string { return d.read(d.boot, firstboot.FileName) }

func (d *device) boots() firstboot.Result {
	d.t.Helper()
	res, err := firstboot.Run(context.Background(), firstboot.Options{Boot: d.boot, Data: d.data, Run: d.run, Zoneinfo: d.tz,
		SetHostname: func(name string) error { d.hostname = name; d.hostnameCalls++; return nil }})
	if err != nil {
		d.t.Fatalf("boot: %v", err)
	}
	return res
}

func (d *device) read(root, rel string) string {
	d.t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		d.t.Fatalf("%s: %v", rel, err)
	}
	return string(data)
}

func (d *device) exists(root, rel string) bool {
	_, err := os.Lstat(filepath.Join(root, rel))
	return err == nil
}

func (d *device) mode(root, rel string) os.FileMode {
	d.t.Helper()
	st, err := os.Stat(filepath.Join(root, rel))
	if err != nil {
		d.t.Fatal(err)
	}
	return st.Mode().Perm()
}

// A card edited in Windows Notepad for Wi-Fi: the secrets go to the data
// partition (0600) and out of the card, whose comments, BOM and CRLF line
// ends stay; the Wi-Fi, the network, the time servers, the host name,
// the SSH key and kioskd's file are made.
func TestFirstBootOverWifi(t *testing.T) {
	d := newDevice(t)
	card := "\xef\xbb\xbf# Kiosk przy wejściu\r\nserver = http://10.0.0.2:8080\r\nhostname = kiosk-wejscie\r\n" +
		"timezone = Europe/Vilnius\r\n\r\n# Wi-Fi\r\nwifi_country = PL\r\nwifi_ssid = IEEE\r\nwifi_passphrase = password\r\n" +
		"dns = 10.0.0.1\r\nntp = ntp.gum.gov.pl, 10.0.0.1\r\nssh_key = " + sshKey + "\r\nenrolment = \"nmke_batch1\"\r\n"
	d.card(card)
	res := d.boots()
	if !res.Changed || len(res.Problems) > 0 {
		t.Fatalf("result %+v", res)
	}

	after := d.cardText()
	for _, gone := range []string{"password", "nmke_batch1"} {
		if strings.Contains(after, gone) {
			t.Errorf("the card still holds %q:\n%s", gone, after)
		}
	}
	wantCard := strings.Replace(strings.Replace(card, "wifi_passphrase = password\r\n",
		"# wifi_passphrase: przeniesione na urządzenie / moved to the device (a new line here replaces it; \"wifi_passphrase =\" with nothing forgets it)\r\n", 1),
		"enrolment = \"nmke_batch1\"\r\n",
		"# enrolment: przeniesione na urządzenie / moved to the device (a new line here replaces it; \"enrolment =\" with nothing forgets it)\r\n", 1)
	if after != wantCard {
		t.Errorf("the card after:\n%q\nwant\n%q", after, wantCard)
	}
	if d.read(d.data, firstboot.SettingsFile) != after {
		t.Error("the settings kept are not the card's file as rewritten")
	}
	for file, want := range map[string]string{firstboot.WifiPassphraseFile: "password\n", firstboot.EnrolmentFile: "nmke_batch1\n"} {
		if got := d.read(d.data, file); got != want {
			t.Errorf("%s holds %q", file, got)
		}
		if m := d.mode(d.data, file); m != 0o600 {
			t.Errorf("%s has mode %o", file, m)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(d.boot, "*")); len(leftovers) != 1 {
		t.Errorf("the card's partition holds %v", leftovers)
	}

	wpa := d.read(d.run, firstboot.WpaSupplicantFile)
	// IEEE 802.11i's test vector: "password" on the network "IEEE".
	for _, want := range []string{"country=PL\n", "ssid=49454545\n", "psk=f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e\n", "key_mgmt=WPA-PSK\n"} {
		if !strings.Contains(wpa, want) {
			t.Errorf("wpa_supplicant's file lacks %q:\n%s", want, wpa)
		}
	}
	if m := d.mode(d.run, firstboot.WpaSupplicantFile); m != 0o600 {
		t.Errorf("wpa_supplicant's file has mode %o", m)
	}
	for iface, want := range map[string]string{"eth0": "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\nDNS=10.0.0.1\n", "wlan0": "[Match]\nName=wlan0\n\n[Network]\nDHCP=yes\nDNS=10.0.0.1\n"} {
		if got := d.read(d.run, filepath.Join(firstboot.NetworkDir, "10-numerek-"+iface+".network")); !strings.HasSuffix(got, want) {
			t.Errorf("%s's network file:\n%s", iface, got)
		}
	}
	if got := d.read(d.run, firstboot.TimesyncdFile); !strings.HasSuffix(got, "[Time]\nNTP=ntp.gum.gov.pl 10.0.0.1\n") {
		t.Errorf("timesyncd's drop-in:\n%s", got)
	}
	if got := d.read(d.data, firstboot.AuthorizedKeysFile); got != sshKey+"\n" {
		t.Errorf("authorized_keys: %q", got)
	}
	if d.hostname != "kiosk-wejscie" || d.read(d.data, firstboot.HostnameFile) != "kiosk-wejscie\n" {
		t.Errorf("host name set to %q", d.hostname)
	}
	if target, _ := os.Readlink(filepath.Join(d.data, firstboot.LocaltimeFile)); target != filepath.Join(d.tz, "Europe/Vilnius") {
		t.Errorf("localtime points at %q", target)
	}
	if d.exists(d.run, firstboot.ProblemsFile) {
		t.Error("a problems file after a right numerek.txt")
	}

	// kioskd reads the file made for it: the server, and the secret.
	local, err := config.ReadLocal(filepath.Join(d.data, firstboot.KioskdFile))
	if err != nil {
		t.Fatalf("kioskd cannot read its file: %v", err)
	}
	if local.ByHand || local.ServerURL != "http://10.0.0.2:8080" || local.Enrolment != "nmke_batch1" || local.DataDir != "/var/lib/kioskd" || local.Status.Listen == "" {
		t.Errorf("kioskd reads %+v", local)
	}

	// The next boot finds the card as it left it: nothing is taken, all
	// is applied again.
	if res := d.boots(); res.Changed || d.hostnameCalls != 2 || res.Settings.WifiPassphrase != "password" || res.Settings.Enrolment != "nmke_batch1" {
		t.Errorf("second boot: %+v, host name set %d times", res, d.hostnameCalls)
	}
}

func TestNetworkFiles(t *testing.T) {
	tests := []struct {
		name, card string
		// want is each interface's network file after its first line;
		// "" for none.
		eth0, wlan0 string
	}{
		{"DHCP", "server = mdns\n", "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n", ""},
		{"a fixed address on the cable", "address = 192.168.1.50/24\ngateway = 192.168.1.1\ndns = 192.168.1.1, 1.1.1.1\n",
			"[Match]\nName=eth0\n\n[Network]\nAddress=192.168.1.50/24\nGateway=192.168.1.1\nDNS=192.168.1.1\nDNS=1.1.1.1\n", ""},
		{"a fixed address without a gateway", "address = 10.1.2.3/16\n", "[Match]\nName=eth0\n\n[Network]\nAddress=10.1.2.3/16\n", ""},
		{"a fixed address on Wi-Fi, the cable on DHCP", "wifi_country = PL\nwifi_ssid = Urzad\naddress = 192.168.1.50/24\n",
			"[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n", "[Match]\nName=wlan0\n\n[Network]\nAddress=192.168.1.50/24\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDevice(t)
			d.card(tt.card)
			d.boots()
			for iface, want := range map[string]string{"eth0": tt.eth0, "wlan0": tt.wlan0} {
				rel := filepath.Join(firstboot.NetworkDir, "10-numerek-"+iface+".network")
				if want == "" {
					if d.exists(d.run, rel) {
						t.Errorf("%s has a network file", iface)
					}
					continue
				}
				got := d.read(d.run, rel)
				if _, body, _ := strings.Cut(got, "\n"); body != want {
					t.Errorf("%s:\n%s\nwant\n%s", iface, body, want)
				}
			}
		})
	}
}

// A card changed later: what it no longer gives is undone (the Wi-Fi,
// the SSH key, the time servers), a secret not given again is kept, and
// one given empty is forgotten.
func TestChangedCard(t *testing.T) {
	d := newDevice(t)
	d.card("wifi_country = PL\nwifi_ssid = Urzad\nwifi_passphrase = haslo-pierwsze\nssh_key = " + sshKey + "\nntp = 10.0.0.1\nenrolment = nmke_1\n")
	d.boots()

	// The technician changes the network's name only: the password kept
	// stays.
	d.card(strings.Replace(d.cardText(), "wifi_ssid = Urzad", "wifi_ssid = Urzad-2", 1))
	if res := d.boots(); !res.Changed || res.Settings.WifiPassphrase != "haslo-pierwsze" || res.Settings.WifiSSID != "Urzad-2" {
		t.Fatalf("after renaming the network: %+v", res.Settings)
	}

	d.card("# no Wi-Fi any more, no key\nenrolment =\n")
	res := d.boots()
	if !res.Changed {
		t.Fatal("the new card was not taken")
	}
	for _, gone := range []string{firstboot.WpaSupplicantFile, filepath.Join(firstboot.NetworkDir, "10-numerek-wlan0.network"), firstboot.TimesyncdFile} {
		if d.exists(d.run, gone) {
			t.Errorf("%s is still there", gone)
		}
	}
	if d.exists(d.data, firstboot.AuthorizedKeysFile) || d.exists(d.data, firstboot.EnrolmentFile) {
		t.Error("the SSH key or the enrolment secret is still kept")
	}
	if want := "# no Wi-Fi any more, no key\n# enrolment: zapomniane przez urządzenie / forgotten by the device\n"; d.cardText() != want {
		t.Errorf("the card:\n%q", d.cardText())
	}
	// The Wi-Fi password is kept (the file did not say to forget it).
	if d.read(d.data, firstboot.WifiPassphraseFile) != "haslo-pierwsze\n" {
		t.Error("the Wi-Fi password kept was lost")
	}
}

// A card with a mistake is not taken: the device keeps its settings and
// kioskd is told what to fix; the fixed card is taken and the problems
// go.
func TestCardWithAMistake(t *testing.T) {
	d := newDevice(t)
	d.card("server = http://10.0.0.2:8080\nhostname = kiosk-1\n")
	d.boots()

	bad := "server = http://10.0.0.9:8080\nhostname = kiosk_2\nwifi_passphrase = tajnehaslo\n"
	d.card(bad)
	res := d.boots()
	if res.Changed || len(res.Problems) != 2 || res.Problems[0].Line != 2 || res.Settings.Hostname != "kiosk-1" || res.Settings.Server != "http://10.0.0.2:8080" {
		t.Fatalf("result %+v, problems %v", res, res.Problems)
	}
	if d.cardText() != bad {
		t.Error("a card with a mistake was rewritten")
	}
	if d.exists(d.data, firstboot.WifiPassphraseFile) {
		t.Error("a secret of a card with a mistake was taken")
	}
	ps, err := firstboot.ReadProblems(filepath.Join(d.run, firstboot.ProblemsFile))
	if err != nil || len(ps) != 2 || ps[0].Line != 2 || ps[0].ID != "numerektxt.hostname" {
		t.Fatalf("kioskd reads the problems %v, %v", ps, err)
	}
	if raw := d.read(d.run, firstboot.ProblemsFile); strings.Contains(raw, "tajnehaslo") {
		t.Errorf("the problems file holds the password:\n%s", raw)
	}

	d.card(strings.Replace(bad, "kiosk_2", "kiosk-2", 1) + "wifi_ssid = Urzad\nwifi_country = PL\n")
	if res := d.boots(); !res.Changed || res.Settings.Hostname != "kiosk-2" {
		t.Fatalf("the fixed card: %+v", res)
	}
	if ps, _ := firstboot.ReadProblems(filepath.Join(d.run, firstboot.ProblemsFile)); ps != nil {
		t.Errorf("problems left after the card was fixed: %v", ps)
	}
}

// A power cut after the settings and secrets were kept but before the
// card was rewritten (or with the new file half made beside it): the
// next boot finishes the job.
func TestPowerCutBeforeTheCardWasRewritten(t *testing.T) {
	d := newDevice(t)
	card := "wifi_country = PL\nwifi_ssid = Urzad\nwifi_passphrase = tajnehaslo\n"
	d.card(card)
	d.boots()
	cleaned := d.cardText()
	// As if the rename on the card never happened.
	d.card(card)
	if err := os.WriteFile(filepath.Join(d.boot, "NUMEREK.NEW"), []byte(cleaned[:10]), 0o644); err != nil {
		t.Fatal(err)
	}
	res := d.boots()
	if !res.Changed || d.cardText() != cleaned || res.Settings.WifiPassphrase != "tajnehaslo" {
		t.Errorf("after the cut: %+v, card %q", res, d.cardText())
	}
	if d.exists(d.boot, "NUMEREK.NEW") {
		t.Error("the half-made file is still on the card")
	}
}

// kioskd's file is written when missing and kept up with the card's
// server while it is firstboot's own; one a person edited is theirs.
func TestKioskdFile(t *testing.T) {
	d := newDevice(t)
	d.boots()
	path := filepath.Join(d.data, firstboot.KioskdFile)
	if l, err := config.ReadLocal(path); err != nil || !l.Discover() || l.Enrolment != "" {
		t.Fatalf("a card without a server: %+v %v", l, err)
	}
	d.card("server = https://kolejka.example.pl\n")
	d.boots()
	if l, err := config.ReadLocal(path); err != nil || l.ServerURL != "https://kolejka.example.pl" {
		t.Fatalf("after the card named a server: %+v %v", l, err)
	}
	edited := bytes.Replace([]byte(d.read(d.data, firstboot.KioskdFile)), []byte("[status]"), []byte("[screen]\nrotation = 90\n\n[status]"), 1)
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	d.card("server = http://10.0.0.3:8080\n")
	d.boots()
	if got := d.read(d.data, firstboot.KioskdFile); got != string(edited) {
		t.Errorf("an edited kioskd.toml was rewritten:\n%s", got)
	}
}

// An updated system whose time zone database lacks the kept zone still
// gets its network: the zone was checked when the card was taken.
func TestKeptZoneGoneAfterAnUpdate(t *testing.T) {
	d := newDevice(t)
	d.card("timezone = Europe/Vilnius\naddress = 10.0.0.21/24\n")
	d.boots()
	if err := os.Remove(filepath.Join(d.tz, "Europe/Vilnius")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(d.run, firstboot.NetworkDir)); err != nil {
		t.Fatal(err)
	}
	res := d.boots()
	if res.Changed || res.Settings.Timezone != "Europe/Vilnius" {
		t.Errorf("after the update: %+v", res)
	}
	if got := d.read(d.run, filepath.Join(firstboot.NetworkDir, "10-numerek-eth0.network")); !strings.Contains(got, "Address=10.0.0.21/24") {
		t.Errorf("the network after the update:\n%s", got)
	}
}
