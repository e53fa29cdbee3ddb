package officeconfig

import (
	"os"
	"path/filepath"
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
