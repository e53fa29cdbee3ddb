package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const ticketFile = `role = "ticket"
name = "kiosk-lobby"
data_dir = "data"
technician_pin = "2407"

[server]
url = "http://10.0.0.2:8080/"
office = "cus-starachowice"
token = "nmk_abc"

[printer]
uri = "emulator:///tmp/tickets"
`

// A minimal file gets sensible defaults, and paths relative to the file.
func TestDefaults(t *testing.T) {
	cfg, err := Parse("/etc/numerek/kioskd.toml", []byte(ticketFile))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Role != RoleTicket || cfg.Name != "kiosk-lobby" || cfg.DataDir != "/etc/numerek/data" || cfg.Server.URL != "http://10.0.0.2:8080" {
		t.Errorf("config %+v", cfg)
	}
	if cfg.Server.IssueTimeout != 1500*time.Millisecond || cfg.Lease != (Lease{Size: 20, Low: 10}) || cfg.Printer.Profile != "tm-t20ii" || cfg.Printer.Mode != "text" {
		t.Errorf("defaults %+v %+v %+v", cfg.Server, cfg.Lease, cfg.Printer)
	}
	if cfg.Screen.Width != 1920 || cfg.Screen.Height != 1080 || cfg.Screen.IdleTimeout != 40*time.Second || cfg.Screen.WindowScale != 1 {
		t.Errorf("screen %+v", cfg.Screen)
	}
	if strings.Join(cfg.Languages, ",") != "pl,en,lt,ru,uk" {
		t.Errorf("languages %v", cfg.Languages)
	}

	counter, err := Parse("c.toml", []byte(`role = "counter"
[server]
url = "http://s:8080"
office = "x"
token = "t"
[counter]
number = 5
[buttons]
next = "GPIO17"
good = "GPIO5"
`))
	if err != nil {
		t.Fatal(err)
	}
	if counter.Screen.Width != 800 || counter.Screen.WidthMM != 154 || !counter.Buttons.ActiveLow || counter.Buttons.Debounce != 30*time.Millisecond ||
		len(counter.Buttons.Pins) != 2 || counter.Buttons.Pins[ButtonGood] != "GPIO5" {
		t.Errorf("counter %+v %+v", counter.Screen, counter.Buttons)
	}
	hall, err := Parse("h.toml", []byte("role = \"hall\"\n[server]\nurl = \"https://s\"\noffice = \"x\"\ntoken = \"t\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !hall.Sound.Enabled || hall.Sound.AnnounceWithin != 2*time.Minute {
		t.Errorf("hall sound %+v", hall.Sound)
	}
}

// Every problem is named with its file, line and setting.
func TestErrorsSayWhereAndWhat(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"syntax", "role = \"ticket\nname = 1", []string{"f.toml:1:"}},
		{"wrong type", "role = 5\n", []string{"f.toml:1:", "role"}},
		{"bad duration", "role = \"hall\"\n[server]\nissue_timeout = \"soon\"\n", []string{"f.toml:3:", "\"soon\" is not a duration"}},
		{"nothing", "", []string{"f.toml: role: missing", "server.url: missing", "server.office: missing", "server.token: missing"}},
		{"unknown role and setting", "role = \"printer\"\ncolour = \"red\"\n", []string{"f.toml:1: role: \"printer\" is not ticket, counter, hall or locker", "f.toml:2: colour: unknown setting"}},
		{"server", "role = \"hall\"\n[server]\nurl = \"10.0.0.2:8080\"\noffice = \"Urząd\"\ntoken = \"a b\"\n",
			[]string{"f.toml:3: server.url: \"10.0.0.2:8080\" is not an http", "f.toml:4: server.office", "f.toml:5: server.token: a token has no spaces"}},
		{"both tokens", "role = \"hall\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\ntoken_file = \"t.txt\"\n", []string{"f.toml:6: server.token_file: give token or token_file, not both"}},
		{"token file missing", "role = \"hall\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken_file = \"/nonexistent/t\"\n", []string{"f.toml:5: server.token_file: cannot read it"}},
		{"screen", "role = \"hall\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[screen]\nwidth = 100\nheight = 50\nrotation = 45\n",
			[]string{"f.toml:7: screen.width: 100x50", "f.toml:9: screen.rotation: 45 is not 0, 90, 180 or 270"}},
		{"printer", "role = \"ticket\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[printer]\nuri = \"lpt1\"\nprofile = \"nope\"\nmode = \"fancy\"\n",
			[]string{"f.toml:7: printer.uri: printer URI \"lpt1\" has no scheme", "f.toml:8: printer.profile", "f.toml:9: printer.mode: \"fancy\" is not text or raster"}},
		{"printer without a device", "role = \"ticket\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[printer]\nuri = \"usb://\"\n",
			[]string{"f.toml:7: printer.uri: printer URI \"usb://\" names no device, file or host"}},
		{"no printer", "role = \"ticket\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n", []string{"printer.uri: missing"}},
		{"lease", "role = \"ticket\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[printer]\nuri = \"file:///tmp/x\"\n[lease]\nsize = 60\nlow = 70\n",
			[]string{"f.toml:9: lease.size: 60 is outside", "f.toml:10: lease.low"}},
		{"counter", "role = \"counter\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[buttons]\nnext = \"GPIO17\"\nrecall = \"GPIO17\"\npressed = \"down\"\n",
			[]string{"counter.number: missing", "f.toml:8: buttons.recall: pin GPIO17 is already the next button", "f.toml:9: buttons.pressed"}},
		{"wrong role's table", "role = \"hall\"\ntechnician_pin = \"1234\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[printer]\nuri = \"file:///tmp/x\"\n",
			[]string{"f.toml:2: technician_pin: only the ticket kiosk", "f.toml:7: printer: a hall device has no printer"}},
		{"languages and pin", "role = \"ticket\"\nlanguages = [\"pl\", \"de\", \"pl\"]\ntechnician_pin = \"12a\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[printer]\nuri = \"file:///tmp/x\"\n",
			[]string{"f.toml:2: languages: \"de\" is not one of", "f.toml:2: languages: \"pl\" is listed twice", "f.toml:3: technician_pin: must be 4 to 12 digits"}},
		{"sound", "role = \"hall\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[sound]\nvoices = \"/nonexistent\"\n[[sound.volume]]\nfrom = \"25:00\"\nvolume = 2\n",
			[]string{"f.toml:7: sound.voices", "f.toml:8: sound.volume"}},
		{"status page", "role = \"hall\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[status]\nlisten = \"0.0.0.0:7070\"\n", []string{"f.toml:7: status.listen", "this machine only"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.toml", []byte(tc.text))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want Errors", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not say %q", err, w)
				}
			}
		})
	}
}

// What Template writes for each role reads back as it was meant.
func TestTemplateReadsBack(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "kiosk.token")
	if err := os.WriteFile(token, []byte("nmk_secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range []Values{
		{Role: RoleTicket, Name: "kiosk \"lobby\"", DataDir: dir, ServerURL: "http://10.0.0.2:8080", Office: "cus-starachowice", TokenFile: token,
			PrinterURI: "usb:///dev/usb/lp0", TechnicianPIN: "2407", Windowed: true, WindowScale: 0.5, Languages: []string{"uk", "pl"}},
		{Role: RoleCounter, ServerURL: "http://s", Office: "x", Token: "nmk_c", Counter: 5, Pins: map[Button]string{ButtonNext: "GPIO17", ButtonBad: "GPIO13"}},
		{Role: RoleHall, ServerURL: "http://s", Office: "x", Token: "nmk_h", Message: "Godziny: 7:30–15:30", Sound: true, Rotation: 90, StatusListen: "127.0.0.1:7070"},
		{Role: RoleLocker, ServerURL: "http://s", Office: "x", Token: "nmk_l", LockerID: "parter", Compartments: []LockerCompartment{
			{ID: "1", LockPin: "GPIO17", DoorPin: "GPIO27", DoorClosedLow: true},
			{ID: "2", LockPin: "GPIO22", DoorPin: "GPIO23", Pulse: 800 * time.Millisecond},
		}},
	} {
		text := Template(v)
		cfg, err := Parse(filepath.Join(dir, "x.toml"), []byte(text))
		if err != nil {
			t.Fatalf("%s template does not read back: %v\n%s", v.Role, err, text)
		}
		switch v.Role {
		case RoleTicket:
			if cfg.Name != v.Name || cfg.Server.Token != "nmk_secret" || !cfg.Screen.Windowed || cfg.Screen.WindowScale != 0.5 || cfg.TechnicianPIN != "2407" || cfg.Languages[0] != "uk" {
				t.Errorf("ticket: %+v", cfg)
			}
		case RoleCounter:
			if cfg.Counter.Number != 5 || cfg.Buttons.Pins[ButtonBad] != "GPIO13" || cfg.Screen.Width != 800 {
				t.Errorf("counter: %+v", cfg)
			}
		case RoleHall:
			if cfg.Screen.Message != v.Message || cfg.Screen.Rotation != 90 || !cfg.Sound.Enabled || cfg.Status.Listen != v.StatusListen {
				t.Errorf("hall: %+v", cfg)
			}
		case RoleLocker:
			want := []LockerCompartment{
				{ID: "1", LockPin: "GPIO17", DoorPin: "GPIO27", DoorClosedLow: true, Pulse: 500 * time.Millisecond},
				{ID: "2", LockPin: "GPIO22", DoorPin: "GPIO23", Pulse: 800 * time.Millisecond},
			}
			if cfg.Locker.ID != "parter" || !slices.Equal(cfg.Locker.Compartments, want) {
				t.Errorf("locker: %+v", cfg.Locker)
			}
		}
	}
}

// The example configurations in examples/devices are valid.
func TestExamples(t *testing.T) {
	paths, err := filepath.Glob("../../examples/devices/*.toml")
	if err != nil || len(paths) < 3 {
		t.Fatalf("examples: %v %v", paths, err)
	}
	paired := 0
	for _, p := range paths {
		// A file without office and token is a device that pairs: the
		// rest of its configuration comes from the server.
		l, err := ReadLocal(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if !l.ByHand {
			paired++
			continue
		}
		if _, err := Load(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if paired == 0 {
		t.Error("no example of a device that pairs")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(ticketFile))
	f.Add([]byte("role = \"counter\"\n[buttons]\nnext = \"GPIO17\"\n[[sound.volume]]\nfrom = \"x\""))
	f.Add([]byte("role = \"locker\"\n[locker]\nid = \"b\"\n[[locker.compartment]]\nid = \"1\"\nlock_pin = \"GPIO4\"\ndoor_pin = \"GPIO4\"\npulse = \"1h\""))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.toml", data)
		if err == nil && cfg == nil {
			t.Fatal("no config and no error")
		}
		var errs Errors
		if err != nil && !errors.As(err, &errs) {
			t.Fatalf("error %v is not Errors", err)
		}
	})
}
