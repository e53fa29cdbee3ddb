// Package firstboot reads numerek.txt, the file a technician edits on the
// SD card's FAT partition (from Windows or macOS, without a keyboard on
// the device), and applies it: the settings are kept on the data
// partition, the secrets in them are moved there and taken out of the FAT
// file, and at every boot the network, Wi-Fi, host name, time servers,
// SSH key and kioskd's own file are made from what is kept. A file with a
// mistake is not applied; what is wrong, with its line, is left where
// kioskd's pairing screen shows it.
package firstboot

import (
	"bytes"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
	"golang.org/x/text/language"
)

// FileName is the technician's file on the card's first partition.
const FileName = "numerek.txt"

// MaxFileSize bounds numerek.txt: it holds a dozen settings and their
// comments, and a bigger file is something else put there by mistake.
const MaxFileSize = 64 << 10

// DiscoverServer as server asks kioskd to find the queue server on the
// network by DNS-SD (config.DiscoverURL).
const DiscoverServer = "mdns"

// The keys of numerek.txt.
const (
	KeyServer         = "server"
	KeyHostname       = "hostname"
	KeyTimezone       = "timezone"
	KeyWifiCountry    = "wifi_country"
	KeyWifiSSID       = "wifi_ssid"
	KeyWifiPassphrase = "wifi_passphrase"
	KeyAddress        = "address"
	KeyGateway        = "gateway"
	KeyDNS            = "dns"
	KeyNTP            = "ntp"
	KeySSHKey         = "ssh_key"
	KeyEnrolment      = "enrolment"
)

// Keys lists every key, in the order the example file gives them.
var Keys = []string{KeyServer, KeyHostname, KeyTimezone, KeyWifiCountry, KeyWifiSSID, KeyWifiPassphrase,
	KeyAddress, KeyGateway, KeyDNS, KeyNTP, KeySSHKey, KeyEnrolment}

// SecretKeys are the keys whose values are moved off the FAT partition,
// which anyone holding the card can read.
var SecretKeys = []string{KeyWifiPassphrase, KeyEnrolment}

// Settings are what a numerek.txt says. A key not given is the zero
// value: DHCP, no Wi-Fi, the image's host name, and so on.
type Settings struct {
	// Server is the queue server's URL without a trailing slash, or
	// DiscoverServer; empty: not given (kioskd looks by DNS-SD).
	Server   string
	Hostname string
	// Timezone is a zone of the tz database ("Europe/Warsaw").
	Timezone string
	// WifiCountry is an ISO 3166 alpha-2 code in capitals.
	WifiCountry string
	WifiSSID    string
	// WifiPassphrase is 8-63 printable ASCII characters or 64 hex digits
	// (the PSK itself); empty: an open network or not given.
	WifiPassphrase string
	// Address is a fixed address with its prefix; invalid: DHCP.
	Address netip.Prefix
	Gateway netip.Addr
	DNS     []netip.Addr
	// NTP are time servers, host names or addresses.
	NTP []string
	// SSHKey is one authorized_keys line, as ssh re-encodes it.
	SSHKey    string
	Enrolment string

	// Lines are the line of each key given, from 1.
	Lines map[string]int
	// Forget are the secret keys given with nothing after "=": the
	// device forgets the value it kept.
	Forget map[string]bool
}

// Given reports whether the file gave key (with a value or without).
func (s *Settings) Given(key string) bool { return s.Lines[key] > 0 }

// Problem is one mistake in numerek.txt: its line (0: the file as a
// whole), the key when known, and what is wrong as a message of the
// i18n catalog (ID and its arguments as name, value pairs), so that
// kioskd's screen says it in Polish and in English.
type Problem struct {
	Line int      `json:"line"`
	Key  string   `json:"key,omitempty"`
	ID   string   `json:"id"`
	Args []string `json:"args,omitempty"`
}

// Error says the problem in English.
func (p *Problem) Error() string { return p.Text(nil, "en") }

// Problems are every mistake found in a file, in the order of its lines.
type Problems []*Problem

func (ps Problems) Error() string {
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.Error()
	}
	return strings.Join(texts, "; ")
}

type parser struct {
	zoneinfo string
	s        *Settings
	problems Problems
}

func (p *parser) add(line int, key, id string, args ...string) {
	p.problems = append(p.problems, &Problem{Line: line, Key: key, ID: id, Args: args})
}

// Parse reads a numerek.txt: "key = value" lines, "#" comments, blank
// lines; a UTF-8 byte order mark and Windows line ends are fine, quotes
// around a value are optional. Time zones are looked up under zoneinfo
// (/usr/share/zoneinfo on the device); with zoneinfo empty only their
// names are checked. The error, when there is one, is Problems.
func Parse(data []byte, zoneinfo string) (*Settings, error) {
	p := &parser{zoneinfo: zoneinfo, s: &Settings{Lines: map[string]int{}, Forget: map[string]bool{}}}
	if len(data) > MaxFileSize {
		p.add(0, "", "numerektxt.too_big")
		return nil, p.problems
	}
	values := map[string]string{}
	for i, raw := range lines(data) {
		n := i + 1
		line := strings.TrimSpace(string(raw))
		if !utf8.ValidString(line) {
			p.add(n, "", "numerektxt.not_text")
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, found := strings.Cut(line, "=")
		if !found {
			// Only the first word is said back: the rest may be a
			// password written without its "=".
			word, _, _ := strings.Cut(line, " ")
			word, _, _ = strings.Cut(word, ":")
			for _, secret := range SecretKeys {
				if strings.HasPrefix(strings.ToLower(word), secret) {
					word = secret
				}
			}
			p.add(n, "", "numerektxt.no_equals", "text", shorten(word))
			continue
		}
		key := strings.ToLower(strings.TrimSpace(k))
		if !known(key) {
			p.add(n, "", "numerektxt.unknown_key", "key", shorten(strings.TrimSpace(k)), "keys", strings.Join(Keys, ", "))
			continue
		}
		if first := p.s.Lines[key]; first > 0 {
			p.add(n, key, "numerektxt.twice", "key", key, "first", fmt.Sprint(first))
			continue
		}
		p.s.Lines[key] = n
		value, ok := unquote(strings.TrimSpace(v))
		if !ok {
			p.add(n, key, "numerektxt.quote")
			continue
		}
		if strings.ContainsFunc(value, isControl) {
			p.add(n, key, "numerektxt.not_text")
			continue
		}
		values[key] = value
	}
	for _, key := range Keys {
		if v, ok := values[key]; ok {
			p.value(key, v)
		}
	}
	p.together()
	if len(p.problems) > 0 {
		sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].Line < p.problems[j].Line })
		return nil, p.problems
	}
	return p.s, nil
}

// lines splits data into its lines without their ends (LF or CRLF) and
// without a leading byte order mark.
func lines(data []byte) [][]byte {
	data = bytes.TrimPrefix(data, bom)
	if len(data) == 0 {
		return nil
	}
	out := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	for i, l := range out {
		out[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	return out
}

var bom = []byte("\xef\xbb\xbf")

func known(key string) bool {
	for _, k := range Keys {
		if k == key {
			return true
		}
	}
	return false
}

func isSecret(key string) bool {
	for _, k := range SecretKeys {
		if k == key {
			return true
		}
	}
	return false
}

// unquote takes away one pair of matching quotes (" or ', as Notepad
// users and shell users write them); a quote opened and not closed is
// a mistake.
func unquote(v string) (string, bool) {
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		return v, true
	}
	if len(v) < 2 || v[len(v)-1] != v[0] {
		return "", false
	}
	return v[1 : len(v)-1], true
}

func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// shorten cuts what is quoted back in a message to a screen's width.
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	r := []rune(s)
	return string(r[:40]) + "…"
}

// value checks and keeps one key's value.
func (p *parser) value(key, v string) {
	s, line := p.s, p.s.Lines[key]
	bad := func(id string, args ...string) { p.add(line, key, id, args...) }
	if v == "" {
		// Nothing after "=": not given, and a secret kept before is
		// forgotten.
		if isSecret(key) {
			s.Forget[key] = true
		}
		return
	}
	switch key {
	case KeyServer:
		if strings.EqualFold(v, DiscoverServer) {
			s.Server = DiscoverServer
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			bad("numerektxt.server", "value", shorten(v))
			return
		}
		s.Server = strings.TrimRight(v, "/")
	case KeyHostname:
		if !validHostname(v) {
			bad("numerektxt.hostname", "value", shorten(v))
			return
		}
		s.Hostname = strings.ToLower(v)
	case KeyTimezone:
		if !p.zoneExists(v) {
			bad("numerektxt.timezone", "value", shorten(v))
			return
		}
		s.Timezone = v
	case KeyWifiCountry:
		r, err := language.ParseRegion(v)
		if len(v) != 2 || err != nil || !r.IsCountry() || r.String() != strings.ToUpper(v) {
			bad("numerektxt.country", "value", shorten(v))
			return
		}
		s.WifiCountry = r.String()
	case KeyWifiSSID:
		if len(v) > 32 {
			bad("numerektxt.ssid", "n", fmt.Sprint(len(v)))
			return
		}
		s.WifiSSID = v
	case KeyWifiPassphrase:
		if !validPassphrase(v) {
			bad("numerektxt.passphrase", "n", fmt.Sprint(utf8.RuneCountInString(v)))
			return
		}
		s.WifiPassphrase = v
	case KeyAddress:
		a, err := netip.ParsePrefix(v)
		if err != nil || a.Addr().Zone() != "" {
			bad("numerektxt.address", "value", shorten(v))
			return
		}
		s.Address = a
	case KeyGateway:
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			bad("numerektxt.gateway", "value", shorten(v))
			return
		}
		s.Gateway = a
	case KeyDNS:
		for _, f := range listItems(v) {
			a, err := netip.ParseAddr(f)
			if err != nil || a.Zone() != "" {
				bad("numerektxt.dns", "value", shorten(f))
				return
			}
			s.DNS = append(s.DNS, a)
		}
	case KeyNTP:
		for _, f := range listItems(v) {
			if _, err := netip.ParseAddr(f); err != nil && !validHostname(f) {
				bad("numerektxt.ntp", "value", shorten(f))
				return
			}
			s.NTP = append(s.NTP, f)
		}
	case KeySSHKey:
		pub, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(v))
		if err != nil || len(options) > 0 || len(bytes.TrimSpace(rest)) > 0 {
			bad("numerektxt.ssh_key")
			return
		}
		line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
		if comment != "" {
			line += " " + comment
		}
		s.SSHKey = line
	case KeyEnrolment:
		if len(v) > 200 || strings.ContainsAny(v, " \t") {
			bad("numerektxt.enrolment")
			return
		}
		s.Enrolment = v
	}
}

// together checks the keys that go with others.
func (p *parser) together() {
	s := p.s
	if s.WifiPassphrase != "" && !s.Given(KeyWifiSSID) {
		p.add(s.Lines[KeyWifiPassphrase], KeyWifiPassphrase, "numerektxt.wifi_needs_ssid", "key", KeyWifiPassphrase)
	}
	if s.WifiSSID != "" && s.WifiCountry == "" && !p.failed(KeyWifiCountry) {
		p.add(s.Lines[KeyWifiSSID], KeyWifiSSID, "numerektxt.wifi_needs_country")
	}
	if s.Gateway.IsValid() {
		switch {
		case !s.Address.IsValid() && !p.failed(KeyAddress):
			p.add(s.Lines[KeyGateway], KeyGateway, "numerektxt.needs_address", "key", KeyGateway)
		case s.Address.IsValid() && !s.Address.Masked().Contains(s.Gateway):
			p.add(s.Lines[KeyGateway], KeyGateway, "numerektxt.gateway_outside", "value", s.Gateway.String(), "address", s.Address.Masked().String())
		}
	}
}

// failed reports whether key's own value was already found wrong.
func (p *parser) failed(key string) bool {
	for _, pr := range p.problems {
		if pr.Key == key {
			return true
		}
	}
	return false
}

// listItems splits a list written with commas, semicolons or spaces.
func listItems(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' })
}

// validHostname: RFC 1123 host names, dot-separated labels of letters,
// digits and dashes, no label starting or ending with a dash, and at
// most 64 characters (what sethostname takes).
func validHostname(h string) bool {
	if h == "" || len(h) > 64 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validPassphrase: WPA's passphrase is 8 to 63 printable ASCII
// characters; 64 hex digits are the PSK itself.
func validPassphrase(v string) bool {
	if len(v) == 64 {
		for _, c := range []byte(v) {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
		return true
	}
	if len(v) < 8 || len(v) > 63 {
		return false
	}
	for _, c := range []byte(v) {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// zoneExists reports whether name is a zone file under the zoneinfo
// root: a relative path of the tz database's names, to a file starting
// with TZif.
func (p *parser) zoneExists(name string) bool {
	if !filepath.IsLocal(name) || strings.ContainsAny(name, "\\ ") || name != filepath.Clean(name) {
		return false
	}
	if p.zoneinfo == "" {
		return true
	}
	f, err := os.Open(filepath.Join(p.zoneinfo, name))
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := f.Read(magic); err != nil {
		return false
	}
	return string(magic) == "TZif"
}
