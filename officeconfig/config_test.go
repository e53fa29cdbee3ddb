package officeconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/numerek/numerek/queue"
)

func TestExampleOffices(t *testing.T) {
	files, _ := filepath.Glob("../examples/offices/*.toml")
	if len(files) < 2 {
		t.Fatalf("example offices missing: %v", files)
	}
	for _, f := range files {
		cfg, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, o := range cfg.Offices {
			if len(o.Counters) < 6 || len(o.Services) < 5 {
				t.Errorf("%s: %d counters, %d services", o.ID, len(o.Counters), len(o.Services))
			}
		}
	}
	cfg, err := Load("../examples/offices/czestochowa.toml")
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Offices[0]
	// Seed 002: Mon, Wed-Fri 8-15, Tue 7:30-17.
	if got := o.Hours[time.Tuesday][0].String(); got != "07:30-17:00" {
		t.Errorf("Częstochowa Tuesday %s", got)
	}
	if got := o.Hours[time.Wednesday][0].String(); got != "08:00-15:00" {
		t.Errorf("Częstochowa Wednesday %s", got)
	}
}

const good = `
[[office]]
id = "x"
name = "X"
time_zone = "Europe/Warsaw"
languages = ["pl"]
[office.hours]
mon = ["08:00-16:00"]
[[office.service]]
id = "a"
prefix = "A"
service_minutes = 5
[office.service.name]
pl = "Sprawy"
[[office.counter]]
number = 1
[office.counter.services]
a = 1.0
`

func TestErrorsNameFileLineAndProblem(t *testing.T) {
	tests := []struct {
		name        string
		replace     [2]string
		line        int
		path, words string
	}{
		{"syntax", [2]string{`name = "X"`, `name = "X`}, 4, "", ""},
		{"bad zone", [2]string{`Europe/Warsaw`, `Europe/Warszawa`}, 5, "office[0].time_zone", "not a known time zone"},
		{"bad hours", [2]string{`08:00-16:00`, `16:00-08:00`}, 8, "office[0].hours.mon", "closes before it opens"},
		{"bad day", [2]string{`mon = [`, `monday = [`}, 8, "office[0].hours.monday", "not a day"},
		{"bad prefix", [2]string{`prefix = "A"`, `prefix = "a1"`}, 11, "office[0].service[0].prefix", "one capital letter"},
		{"unknown setting", [2]string{`service_minutes = 5`, `service_minuts = 5`}, 12, "office.service.service_minuts", "unknown setting"},
		{"counter serves unknown", [2]string{`a = 1.0`, `b = 1.0`}, 18, "office[0].counter[0].services.b", "no service"},
		{"wrong type", [2]string{`number = 1`, `number = "one"`}, 16, "", "number"},
		{"bad language", [2]string{`languages = ["pl"]`, `languages = ["pl", "de"]`}, 6, "office[0].languages", `"de"`},
		{"short name no shorter", [2]string{`pl = "Sprawy"`, "pl = \"Sprawy\"\n[office.service.short_name]\npl = \"Sprawy różne\""}, 16, "office[0].service[0].short_name.pl", `"Sprawy różne" is not shorter than the name "Sprawy"`},
		{"negative push ahead", [2]string{`languages = ["pl"]`, "languages = [\"pl\"]\n[office.push]\nnotify_when_ahead = -1"}, 8, "office[0].push.notify_when_ahead", "must be 0 (off) or more"},
		{"outcome id with a comma", [2]string{`pl = "Sprawy"`, "pl = \"Sprawy\"\n[[office.service.outcome]]\nid = \"id,card\"\n[office.service.outcome.name]\npl = \"Dowód\""}, 16, "office[0].service[0].outcome[0].id", `"id,card" must be 1-40 lowercase letters`},
		{"outcome without a name", [2]string{`pl = "Sprawy"`, "pl = \"Sprawy\"\n[[office.service.outcome]]\nid = \"id-card\""}, 15, "office[0].service[0].outcome[0].name", `no name in "pl"`},
		{"short name in another language", [2]string{`pl = "Sprawy"`, "pl = \"Sprawy urzędowe\"\n[office.service.short_name]\nuk = \"Справи\""}, 16, "office[0].service[0].short_name.uk", `not one of the office's languages (pl)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(good, tt.replace[0], tt.replace[1], 1)
			if text == good {
				t.Fatal("replacement did not apply")
			}
			_, err := Parse("office.toml", []byte(text))
			errs, ok := err.(Errors)
			if !ok || len(errs) == 0 {
				t.Fatalf("Parse = %v, want errors", err)
			}
			for _, e := range errs {
				if e.File == "office.toml" && e.Line == tt.line && e.Path == tt.path && strings.Contains(e.Error(), tt.words) {
					return
				}
			}
			t.Errorf("no error at line %d, path %q, saying %q in:\n%v", tt.line, tt.path, tt.words, err)
		})
	}
	if _, err := Parse("office.toml", []byte(good)); err != nil {
		t.Errorf("good config: %v", err)
	}
	short := strings.Replace(good, `pl = "Sprawy"`, "pl = \"Sprawy urzędowe\"\n[office.service.short_name]\npl = \"Sprawy\"", 1)
	cfg, err := Parse("office.toml", []byte(short))
	if err != nil {
		t.Fatalf("a short name: %v", err)
	}
	if got := cfg.Offices[0].Services[0].ShortNames["pl"]; got != "Sprawy" {
		t.Errorf("short name read as %q, want %q", got, "Sprawy")
	}
}

func TestSecondOfficeAndDuplicates(t *testing.T) {
	two := good + strings.Replace(good, `id = "x"`, `id = "x"`, 1)
	_, err := Parse("o.toml", []byte(two))
	if err == nil || !strings.Contains(err.Error(), `o.toml:21: office[1].id: "x" is already used by office[0]`) {
		t.Errorf("duplicate office id: %v", err)
	}
	second := strings.Replace(good, `prefix = "A"`, `prefix = "AA"`, 1)
	_, err = Parse("o.toml", []byte(good+second))
	if err == nil || !strings.Contains(err.Error(), "o.toml:29: office[1].service[0].prefix") {
		t.Errorf("error in the second office: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.toml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// FuzzParse: configuration files are written by hand on site; whatever
// they hold, Parse answers with a config or an error, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	if data, err := os.ReadFile("../examples/offices/starachowice.toml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("[[office]]\n[[office.service]]\n[office.service.name]\n"))
	f.Add([]byte("[devices]\nalert_to = [\"it@example.pl\"]\nalert_webhook = \"https://h.example.pl/x\"\noffline_after = \"5m\"\n" + good + "[office.devices]\noffline_after = \"10m\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.toml", data)
		if err == nil && len(cfg.Offices) == 0 {
			t.Fatal("no error and no office")
		}
	})
}

func TestBackupSetting(t *testing.T) {
	tests := []struct {
		name, text string
		want       Backup
		err        string
	}{
		{"none", "", Backup{}, ""},
		{"defaults", "[backup]\ndir = \"/var/backups/numerek\"\n", Backup{Dir: "/var/backups/numerek", Keep: 7, At: 2 * time.Hour}, ""},
		{"all", "[backup]\ndir = \"b\"\nkeep = 14\nat = \"21:30\"\n", Backup{Dir: "b", Keep: 14, At: 21*time.Hour + 30*time.Minute}, ""},
		{"no dir", "[backup]\nkeep = 3\n", Backup{}, "o.toml:1: backup.dir: missing"},
		{"bad keep", "[backup]\ndir = \"b\"\nkeep = 0\n", Backup{}, "o.toml:3: backup.keep: 0: keep at least 1 copy"},
		{"bad time", "[backup]\ndir = \"b\"\nat = \"2am\"\n", Backup{}, `o.toml:3: backup.at: "2am" is not a time of day`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("o.toml", []byte(tt.text+good))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Backup != tt.want {
				t.Errorf("backup %+v, want %+v", cfg.Backup, tt.want)
			}
		})
	}
}

// A closed day's name is given once (the old form, still read) or per
// language; a language the office does not speak is an error with its line.
func TestHolidayNamesPerLanguage(t *testing.T) {
	base := strings.Replace(good, `languages = ["pl"]`, `languages = ["pl", "uk"]`, 1)
	base = strings.Replace(base, `pl = "Sprawy"`, "pl = \"Sprawy\"\nuk = \"Справи\"", 1)
	tests := []struct {
		name      string
		exception string
		wantPL    string
		wantUK    string
		errLine   int
		errPath   string
	}{
		{"one name", `name = "Wigilia"`, "Wigilia", "Wigilia", 0, ""},
		{"per language", `names = { pl = "Wigilia", uk = "Святвечір" }`, "Wigilia", "Святвечір", 0, ""},
		{"both", "name = \"Wigilia\"\nnames = { uk = \"Святвечір\" }", "Wigilia", "Святвечір", 0, ""},
		{"a language the office lacks", `names = { pl = "Wigilia", de = "Heiligabend" }`, "", "", 22, "office[0].exception[2026-12-24].names.de"},
		{"an empty name", `names = { pl = "Wigilia", uk = "" }`, "", "", 22, "office[0].exception[2026-12-24].names.uk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := base + "[[office.exception]]\ndate = \"2026-12-24\"\n" + tt.exception + "\nhours = []\n"
			cfg, err := Parse("office.toml", []byte(text))
			if tt.errPath != "" {
				errs, _ := err.(Errors)
				for _, e := range errs {
					if e.Path == tt.errPath && e.Line == tt.errLine {
						return
					}
				}
				t.Fatalf("want an error at line %d, %s; got %v", tt.errLine, tt.errPath, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			ex := cfg.Offices[0].Exceptions["2026-12-24"]
			if ex.Title("pl") != tt.wantPL || ex.Title("uk") != tt.wantUK {
				t.Errorf("named %q in pl and %q in uk, want %q and %q", ex.Title("pl"), ex.Title("uk"), tt.wantPL, tt.wantUK)
			}
		})
	}
}

func TestServerHTTPSAndProxies(t *testing.T) {
	tests := []struct {
		name, text string
		check      func(t *testing.T, s Server)
		err        string
	}{
		{name: "none", text: "", check: func(t *testing.T, s Server) {
			if s.HTTPS.Enabled() || len(s.TrustedProxies) != 0 || !s.HTTPS.HSTS || s.HTTPS.Listen != ":443" {
				t.Errorf("defaults: %+v", s)
			}
		}},
		{name: "acme", text: "[server]\nacme_hosts = [\"kolejka.example.pl\"]\nacme_email = \"it@example.pl\"\nhttps_listen = \":8443\"\nhsts = false\n", check: func(t *testing.T, s Server) {
			h := s.HTTPS
			if !h.Enabled() || h.ACMEHosts[0] != "kolejka.example.pl" || h.ACMEEmail != "it@example.pl" || h.Listen != ":8443" || h.HSTS {
				t.Errorf("acme: %+v", h)
			}
		}},
		{name: "files", text: "[server]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n", check: func(t *testing.T, s Server) {
			if !s.HTTPS.Enabled() || s.HTTPS.CertFile != "c.pem" || s.HTTPS.KeyFile != "k.pem" {
				t.Errorf("files: %+v", s.HTTPS)
			}
		}},
		{name: "proxies", text: "[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7/32\"]\n", check: func(t *testing.T, s Server) {
			if len(s.TrustedProxies) != 2 || s.TrustedProxies[1].String() != "192.0.2.7/32" {
				t.Errorf("proxies: %v", s.TrustedProxies)
			}
		}},
		{name: "bad proxy", text: "[server]\n\ntrusted_proxies = [\"10.0.0.0/8\", \"proxy.lan\"]\n", err: `o.toml:3: server.trusted_proxies: [1] "proxy.lan" is not a network`},
		{name: "both", text: "[server]\nacme_hosts = [\"a.example.pl\"]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n", err: "o.toml:3: server.cert_file: give either acme_hosts"},
		{name: "key missing", text: "[server]\ncert_file = \"c.pem\"\n", err: "o.toml:2: server.cert_file: cert_file and key_file go together"},
		{name: "host with scheme", text: "[server]\nacme_hosts = [\"https://a.example.pl\"]\n", err: "o.toml:2: server.acme_hosts: [0] \"https://a.example.pl\": give the host name alone"},
		{name: "host is an address", text: "[server]\nacme_hosts = [\"192.0.2.1\"]\n", err: "an address cannot get an ACME certificate"},
		{name: "directory not https", text: "[server]\nacme_hosts = [\"a.example.pl\"]\nacme_directory = \"http://ca.lan/dir\"\n", err: "o.toml:3: server.acme_directory: \"http://ca.lan/dir\" is not an https:// URL"},
		{name: "email", text: "[server]\nacme_hosts = [\"a.example.pl\"]\nacme_email = \"it at example\"\n", err: "o.toml:3: server.acme_email: \"it at example\" is not an e-mail address"},
		{name: "acme key without hosts", text: "[server]\nacme_email = \"it@example.pl\"\n", err: "o.toml:2: server.acme_email: has no effect without acme_hosts"},
		{name: "hall voices", text: "[server]\nhall_voices = \"/etc/numerek/voices\"\n", check: func(t *testing.T, s Server) {
			if s.HallVoices != "/etc/numerek/voices" {
				t.Errorf("hall voices: %q", s.HallVoices)
			}
		}},
		{name: "hall voices relative", text: "[server]\n\nhall_voices = \"voices\"\n", err: `o.toml:3: server.hall_voices: "voices" is not an absolute path`},
		{name: "bad listen", text: "[server]\ncert_file = \"c\"\nkey_file = \"k\"\nhttps_listen = \"443\"\n", err: "o.toml:4: server.https_listen: \"443\" is not an address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("o.toml", []byte(tt.text+good))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg.Server)
		})
	}
}

func TestBookingContactSettings(t *testing.T) {
	tests := []struct {
		name, text string
		want       queue.BookingRules
	}{
		{"defaults", "", queue.BookingRules{ConfirmContact: true, HoldFor: 15 * time.Minute, PerContactPerDay: 1, PhoneCountry: "48"}},
		{"set", "[office.booking]\nconfirm_contact = false\nhold_minutes = 5\nper_contact_per_day = 2\nphone_country = \"+370\"\n",
			queue.BookingRules{HoldFor: 5 * time.Minute, PerContactPerDay: 2, PhoneCountry: "370"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("o.toml", []byte(good+tt.text))
			if err != nil {
				t.Fatal(err)
			}
			b := cfg.Offices[0].Booking
			got := queue.BookingRules{ConfirmContact: b.ConfirmContact, HoldFor: b.HoldFor, PerContactPerDay: b.PerContactPerDay, PhoneCountry: b.PhoneCountry}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// [office.push]: "N ahead" defaults to 3, 0 turns it off; SMS is off
// unless allowed.
func TestPushSettings(t *testing.T) {
	for _, c := range []struct {
		toml string
		want queue.PushRules
	}{
		{"", queue.PushRules{NotifyWhenAhead: 3}},
		{"[office.push]\nnotify_when_ahead = 0", queue.PushRules{}},
		{"[office.push]\nnotify_when_ahead = 5\nsms_fallback = true", queue.PushRules{NotifyWhenAhead: 5, SMSFallback: true}},
	} {
		cfg, err := Parse("office.toml", []byte(strings.Replace(good, `languages = ["pl"]`, "languages = [\"pl\"]\n"+c.toml, 1)))
		if err != nil {
			t.Fatalf("%q: %v", c.toml, err)
		}
		if got := cfg.Offices[0].Push; got != c.want {
			t.Errorf("%q read as %+v, want %+v", c.toml, got, c.want)
		}
	}
}

func TestRemoteRules(t *testing.T) {
	tests := []struct {
		name    string
		section string
		want    queue.RemoteRules
		errPath string
	}{
		{"defaults", "", queue.RemoteRules{MaxWaiting: 20, PresenceAhead: 3, PresenceTimeout: 10 * time.Minute}, ""},
		{"all given", "[office.remote]\nmax_waiting = 5\npresence_ahead = 2\npresence_timeout = \"90s\"\n",
			queue.RemoteRules{MaxWaiting: 5, PresenceAhead: 2, PresenceTimeout: 90 * time.Second}, ""},
		{"all off", "[office.remote]\nmax_waiting = 0\npresence_ahead = 0\n",
			queue.RemoteRules{PresenceTimeout: 10 * time.Minute}, ""},
		{"not a duration", "[office.remote]\npresence_timeout = \"10 minutes\"\n", queue.RemoteRules{}, "office[0].remote.presence_timeout"},
		{"too short to answer", "[office.remote]\npresence_timeout = \"10s\"\n", queue.RemoteRules{}, "office[0].remote.presence_timeout"},
		{"negative cap", "[office.remote]\nmax_waiting = -1\n", queue.RemoteRules{}, "office[0].remote.max_waiting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("office.toml", []byte(good+tt.section))
			if tt.errPath != "" {
				errs, _ := err.(Errors)
				for _, e := range errs {
					if e.Path == tt.errPath && e.Line > 0 {
						return
					}
				}
				t.Fatalf("want an error with a line at %s; got %v", tt.errPath, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Offices[0].Remote; got != tt.want {
				t.Errorf("read %+v, want %+v", got, tt.want)
			}
		})
	}
	cfg, err := Parse("office.toml", []byte(strings.Replace(good, `service_minutes = 5`, "service_minutes = 5\nremote_max_waiting = 4", 1)))
	if err != nil || cfg.Offices[0].Services[0].RemoteMaxWaiting != 4 {
		t.Errorf("a service's own cap: %v", err)
	}
}

// A service's outcomes are read in order with their names.
func TestServiceOutcomes(t *testing.T) {
	text := strings.Replace(good, `pl = "Sprawy"`, `pl = "Sprawy"
[[office.service.outcome]]
id = "id-card"
name = { pl = "Wniosek o dowód" }
[[office.service.outcome]]
id = "advice"
name = { pl = "Porada" }`, 1)
	cfg, err := Parse("office.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []queue.Outcome{{ID: "id-card", Names: map[string]string{"pl": "Wniosek o dowód"}}, {ID: "advice", Names: map[string]string{"pl": "Porada"}}}
	if got := cfg.Offices[0].Services[0].Outcomes; !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes %+v, want %+v", got, want)
	}
}
