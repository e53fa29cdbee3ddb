package firstboot_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/numerek/numerek/device/firstboot"
	"github.com/numerek/numerek/i18n"
)

// zoneinfo is a time zone database with the zones the tests name: the
// real files, copied, so the tests do not depend on the machine's.
func zoneinfo(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, z := range []string{"Europe/Warsaw", "Europe/Vilnius", "UTC"} {
		data, err := os.ReadFile(filepath.Join("/usr/share/zoneinfo", z))
		if err != nil {
			// The zone files are in tzdata; Go's own copy has the same
			// bytes.
			t.Skipf("no time zone database here: %v", err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, z)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, z), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "zone.tab"), []byte("# not a zone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const sshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl serwis@numerek"

func TestParse(t *testing.T) {
	zones := zoneinfo(t)
	tests := []struct {
		name, text string
		want       func(s *firstboot.Settings) bool
		// wantLine and wantID: the first problem's line and message.
		wantLine int
		wantID   string
	}{
		{"nothing at all", "", func(s *firstboot.Settings) bool { return s.Server == "" && !s.Address.IsValid() }, 0, ""},
		{"comments only", "# numerek.txt\n\n   # indented\n", func(s *firstboot.Settings) bool { return len(s.Lines) == 0 }, 0, ""},
		{"Windows Notepad: a BOM and CRLF", "\xef\xbb\xbfserver = http://10.0.0.2:8080/\r\nhostname = Kiosk-1\r\n",
			func(s *firstboot.Settings) bool { return s.Server == "http://10.0.0.2:8080" && s.Hostname == "kiosk-1" }, 0, ""},
		{"quotes, either kind", "wifi_country = 'pl'\nwifi_ssid = \"Urząd Gość\"\nwifi_passphrase = \" spaces kept \"\n",
			func(s *firstboot.Settings) bool {
				return s.WifiCountry == "PL" && s.WifiSSID == "Urząd Gość" && s.WifiPassphrase == " spaces kept "
			}, 0, ""},
		{"keys in capitals", "SERVER = mdns\n", func(s *firstboot.Settings) bool { return s.Server == firstboot.DiscoverServer }, 0, ""},
		{"a fixed address", "address = 192.168.1.50/24\ngateway = 192.168.1.1\ndns = 1.1.1.1, 9.9.9.9;8.8.8.8\n",
			func(s *firstboot.Settings) bool {
				return s.Address == netip.MustParsePrefix("192.168.1.50/24") && s.Gateway == netip.MustParseAddr("192.168.1.1") &&
					len(s.DNS) == 3 && s.DNS[2] == netip.MustParseAddr("8.8.8.8")
			}, 0, ""},
		{"IPv6", "address = 2001:db8::5/64\ngateway = 2001:db8::1\n", func(s *firstboot.Settings) bool { return s.Address.Addr().Is6() }, 0, ""},
		{"time servers", "ntp = ntp.gum.gov.pl 10.0.0.1\ntimezone = Europe/Vilnius\n",
			func(s *firstboot.Settings) bool {
				return slices.Equal(s.NTP, []string{"ntp.gum.gov.pl", "10.0.0.1"}) && s.Timezone == "Europe/Vilnius"
			}, 0, ""},
		{"an SSH key", "ssh_key = " + sshKey + "\n", func(s *firstboot.Settings) bool { return s.SSHKey == sshKey }, 0, ""},
		{"a 64-digit PSK", "wifi_country=PL\nwifi_ssid=x\nwifi_passphrase=" + strings.Repeat("aB", 32) + "\n",
			func(s *firstboot.Settings) bool { return len(s.WifiPassphrase) == 64 }, 0, ""},
		{"an enrolment secret", "enrolment = nmke_Zq0-x_9\n", func(s *firstboot.Settings) bool { return s.Enrolment == "nmke_Zq0-x_9" }, 0, ""},
		{"a secret to forget", "enrolment =\n", func(s *firstboot.Settings) bool { return s.Forget["enrolment"] && s.Enrolment == "" }, 0, ""},
		{"an empty key is as none", "hostname =\n", func(s *firstboot.Settings) bool { return s.Hostname == "" && !s.Forget["hostname"] }, 0, ""},

		{"no equals sign", "# ok\nserver http://x\n", nil, 2, "numerektxt.no_equals"},
		{"a misspelt key", "sever = mdns\n", nil, 1, "numerektxt.unknown_key"},
		{"a key twice", "hostname = a\nhostname = b\n", nil, 2, "numerektxt.twice"},
		{"a quote not closed", "wifi_ssid = \"Urząd\nwifi_country = PL\n", nil, 1, "numerektxt.quote"},
		{"a server without a scheme", "server = 10.0.0.2:8080\n", nil, 1, "numerektxt.server"},
		{"a server with a query", "server = http://x/?a=1\n", nil, 1, "numerektxt.server"},
		{"a host name with an underscore", "hostname = kiosk_1\n", nil, 1, "numerektxt.hostname"},
		{"a host name with a dash at its end", "hostname = kiosk-\n", nil, 1, "numerektxt.hostname"},
		{"a host name too long", "hostname = " + strings.Repeat("a", 65) + "\n", nil, 1, "numerektxt.hostname"},
		{"a zone that is not", "timezone = Europe/Warszawa\n", nil, 1, "numerektxt.timezone"},
		{"a zone out of the database", "timezone = ../../etc/passwd\n", nil, 1, "numerektxt.timezone"},
		{"a file in the database that is no zone", "timezone = zone.tab\n", nil, 1, "numerektxt.timezone"},
		{"a country that is not", "wifi_country = XX\n", nil, 1, "numerektxt.country"},
		{"a country in three letters", "wifi_country = POL\n", nil, 1, "numerektxt.country"},
		{"an SSID too long", "wifi_country = PL\nwifi_ssid = " + strings.Repeat("s", 33) + "\n", nil, 2, "numerektxt.ssid"},
		{"a password too short", "wifi_country = PL\nwifi_ssid = x\nwifi_passphrase = 1234567\n", nil, 3, "numerektxt.passphrase"},
		{"a password too long", "wifi_country = PL\nwifi_ssid = x\nwifi_passphrase = " + strings.Repeat("p", 64) + "\n", nil, 3, "numerektxt.passphrase"},
		{"a password with Polish letters", "wifi_country = PL\nwifi_ssid = x\nwifi_passphrase = zażółćgęślą\n", nil, 3, "numerektxt.passphrase"},
		{"a password without a network", "wifi_passphrase = 12345678\n", nil, 1, "numerektxt.wifi_needs_ssid"},
		{"a network without a country", "wifi_ssid = Urzad\n", nil, 1, "numerektxt.wifi_needs_country"},
		{"an address without its size", "address = 192.168.1.50\n", nil, 1, "numerektxt.address"},
		{"a gateway without an address", "gateway = 192.168.1.1\n", nil, 1, "numerektxt.needs_address"},
		{"a gateway outside the network", "address = 192.168.1.50/24\ngateway = 192.168.2.1\n", nil, 2, "numerektxt.gateway_outside"},
		{"a gateway by name", "address = 192.168.1.50/24\ngateway = router\n", nil, 2, "numerektxt.gateway"},
		{"a DNS server by name", "dns = 1.1.1.1, dns.google\n", nil, 1, "numerektxt.dns"},
		{"a time server that is no name", "ntp = pool.ntp.org, czas!\n", nil, 1, "numerektxt.ntp"},
		{"half an SSH key", "ssh_key = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkV\n", nil, 1, "numerektxt.ssh_key"},
		{"a private key", "ssh_key = -----BEGIN OPENSSH PRIVATE KEY-----\n", nil, 1, "numerektxt.ssh_key"},
		{"an enrolment secret with a space", "enrolment = nmke_a b\n", nil, 1, "numerektxt.enrolment"},
		{"not text", "hostname = a\xff\n", nil, 1, "numerektxt.not_text"},
		{"a control character", "hostname = a\x00b\n", nil, 1, "numerektxt.not_text"},
		{"a file too big", strings.Repeat("#\n", firstboot.MaxFileSize), nil, 0, "numerektxt.too_big"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := firstboot.Parse([]byte(tt.text), zones)
			if tt.wantID == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if !tt.want(s) {
					t.Errorf("read %+v", *s)
				}
				return
			}
			var ps firstboot.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %v, want problems", err)
			}
			if ps[0].Line != tt.wantLine || ps[0].ID != tt.wantID {
				t.Errorf("first problem: line %d %s (%v), want line %d %s", ps[0].Line, ps[0].ID, ps[0], tt.wantLine, tt.wantID)
			}
		})
	}
}

// Every mistake is found at once, each with its line, and said in
// Polish and in English with the line and the key's value (never a
// password's).
func TestParseSaysEveryProblem(t *testing.T) {
	text := "server = kolejka\r\nhostname = ok\r\nwifi_ssid = Urzad\r\nwifi_passphrase = tajne\r\nsever = x\r\n"
	_, err := firstboot.Parse([]byte(text), zoneinfo(t))
	var ps firstboot.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v", err)
	}
	var lines []int
	for _, p := range ps {
		lines = append(lines, p.Line)
	}
	if !reflect.DeepEqual(lines, []int{1, 3, 4, 5}) {
		t.Errorf("problems on lines %v, want 1, 3, 4, 5: %v", lines, ps)
	}
	cat := i18n.Messages()
	if got := ps[0].Text(cat, "pl"); !strings.HasPrefix(got, "wiersz 1: „kolejka” nie jest adresem serwera") {
		t.Errorf("in Polish: %q", got)
	}
	if got := ps[0].Error(); !strings.HasPrefix(got, "line 1: “kolejka” is not a server") {
		t.Errorf("in English: %q", got)
	}
	for _, lang := range []string{"pl", "en"} {
		for _, p := range ps {
			if text := p.Text(cat, lang); strings.Contains(text, "tajne") || strings.Contains(text, "numerektxt.") {
				t.Errorf("%s: %q", lang, text)
			}
		}
	}
	// A password written without "=" is not said back either.
	_, err = firstboot.Parse([]byte("wifi_passphrase:tajnehaslo\n"), t.TempDir())
	if err == nil || strings.Contains(err.Error(), "tajnehaslo") {
		t.Errorf("a password line without =: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("\xef\xbb\xbfserver = http://10.0.0.2:8080\r\nwifi_ssid = \"x\"\r\nwifi_country=PL\r\n"))
	f.Add([]byte("address = 10.0.0.5/8\ngateway = 10.0.0.1\ndns = 1.1.1.1\nntp = a.b\n"))
	f.Add([]byte("ssh_key = " + sshKey + "\nenrolment = nmke_x\nhostname=a.b-c\n"))
	f.Add([]byte("wifi_passphrase =\n# x\n= y\n'\n"))
	zones := zoneinfo(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := firstboot.Parse(data, zones)
		if err != nil {
			var ps firstboot.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("an error that is not Problems: %v", err)
			}
			lines := strings.Count(string(data), "\n") + 1
			for _, p := range ps {
				if p.Line < 0 || p.Line > lines || p.ID == "" || len(p.Args)%2 != 0 {
					t.Fatalf("problem %+v of a file of %d lines", p, lines)
				}
				if !i18n.Messages().Has("pl", p.ID) {
					t.Fatalf("problem %s has no Polish text", p.ID)
				}
			}
			return
		}
		// The file kept, its secrets taken out, reads the same but for
		// them: it is what later boots apply.
		kept := firstboot.WithoutSecrets(data, s)
		again, err := firstboot.Parse(kept, zones)
		if err != nil {
			t.Fatalf("the kept file %q does not read again: %v", kept, err)
		}
		if again.Server != s.Server || again.Hostname != s.Hostname || again.Address != s.Address || again.WifiSSID != s.WifiSSID ||
			again.SSHKey != s.SSHKey || !slices.Equal(again.NTP, s.NTP) || !slices.Equal(again.DNS, s.DNS) {
			t.Fatalf("the kept file reads %+v, the card's %+v", again, s)
		}
		for _, k := range firstboot.SecretKeys {
			if again.Given(k) {
				t.Fatalf("the kept file still gives %s: %q", k, kept)
			}
		}
		if s.WifiPassphrase != "" && s.WifiSSID == "" {
			t.Fatalf("a password without a network was taken")
		}
	})
}

// The example the image puts on the card reads without a mistake, and
// each of its commented-out settings does too once uncommented (but the
// placeholders for the secrets and the SSH key).
func TestExampleFileReads(t *testing.T) {
	data, err := os.ReadFile("../../examples/numerek.txt")
	if err != nil {
		t.Fatal(err)
	}
	zones := zoneinfo(t)
	if _, err := firstboot.Parse(data, zones); err != nil {
		t.Fatalf("the example as shipped: %v", err)
	}
	var uncommented []string
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "# ")
		key, _, _ := strings.Cut(rest, " = ")
		if ok && slices.Contains(firstboot.Keys, key) && !strings.Contains(rest, "...") {
			if key == firstboot.KeyServer {
				continue // given once already
			}
			line = rest
		}
		uncommented = append(uncommented, line)
	}
	s, err := firstboot.Parse([]byte(strings.Join(uncommented, "\n")), zones)
	if err != nil {
		t.Fatalf("the example with every setting: %v", err)
	}
	if s.WifiSSID != "Urzad-Kolejka" || !s.Address.IsValid() || len(s.NTP) != 2 {
		t.Errorf("read %+v", s)
	}
}
