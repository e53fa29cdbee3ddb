package officeconfig

import (
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
)

// goodLocker is one locker for the office of good: lines 19-36 of the
// file good+goodLocker.
const goodLocker = `[[office.locker]]
id = "hall"
name = { pl = "Urzędomat" }
place = { pl = "Przy wejściu" }
deadline = "7d"
remind_before = "24h"
[[office.locker.document]]
id = "id-card"
name = { pl = "Dowód osobisty" }
second_factor = true
[[office.locker.compartment]]
id = "1"
size = "S"
[[office.locker.compartment]]
id = "2"
size = "m"
accessible = true
`

func TestLockerIsRead(t *testing.T) {
	cfg, err := Parse("office.toml", []byte(good+goodLocker))
	if err != nil {
		t.Fatal(err)
	}
	ls := cfg.Offices[0].Lockers
	if len(ls) != 1 {
		t.Fatalf("%d lockers, want 1", len(ls))
	}
	l := ls[0]
	want := queue.Locker{
		ID: "hall", Names: map[string]string{"pl": "Urzędomat"}, Place: map[string]string{"pl": "Przy wejściu"},
		Deadline: 7 * 24 * time.Hour, RemindBefore: 24 * time.Hour,
		Compartments: []queue.Compartment{{ID: "1", Size: "S"}, {ID: "2", Size: "M", Accessible: true}},
		Documents:    []queue.LockerDocument{{ID: "id-card", Names: map[string]string{"pl": "Dowód osobisty"}, SecondFactor: true}},
	}
	if l.ID != want.ID || l.Deadline != want.Deadline || l.RemindBefore != want.RemindBefore ||
		len(l.Compartments) != 2 || l.Compartments[1] != want.Compartments[1] || l.Compartments[0] != want.Compartments[0] ||
		len(l.Documents) != 1 || !l.Documents[0].SecondFactor || l.Name("pl") != "Urzędomat" || l.PlaceIn("en") != "Przy wejściu" {
		t.Errorf("locker read as %+v\nwant %+v", l, want)
	}
	if l.Alarm() != queue.DefaultDoorAlarm {
		t.Errorf("door alarm %v without a setting, want the default %v", l.Alarm(), queue.DefaultDoorAlarm)
	}
}

func TestLockerErrorsNameFileLineAndProblem(t *testing.T) {
	tests := []struct {
		name        string
		replace     [2]string
		line        int
		path, words string
	}{
		{"no deadline", [2]string{`deadline = "7d"`, ``}, 19, "office[0].locker[0].deadline", "missing: how long a document waits"},
		{"deadline not a duration", [2]string{`deadline = "7d"`, `deadline = "a week"`}, 23, "office[0].locker[0].deadline", `"a week" is not a duration`},
		{"deadline too long", [2]string{`deadline = "7d"`, `deadline = "100d"`}, 23, "office[0].locker[0].deadline", "longer than 90 days"},
		{"reminder after the deadline", [2]string{`remind_before = "24h"`, `remind_before = "8d"`}, 24, "office[0].locker[0].remind_before", "not shorter than the deadline"},
		{"door alarm negative", [2]string{`remind_before = "24h"`, "remind_before = \"24h\"\ndoor_alarm = \"-5s\""}, 25, "office[0].locker[0].door_alarm", `"-5s" is not a duration`},
		{"bad locker id", [2]string{`id = "hall"`, `id = "Hall B"`}, 20, "office[0].locker[0].id", `"Hall B" must be 1-40 lowercase`},
		{"no name in the office's language", [2]string{`name = { pl = "Urzędomat" }`, `name = { en = "Locker" }`}, 21, "office[0].locker[0].name", `no name in "pl"`},
		{"bad size", [2]string{`size = "S"`, `size = "XL"`}, 31, "office[0].locker[0].compartment[0].size", `"XL" is not S, M or L`},
		{"duplicate compartment", [2]string{`id = "2"`, `id = "1"`}, 33, "office[0].locker[0].compartment[1].id", `"1" is already used by compartment[0]`},
		{"compartment id too long", [2]string{`id = "2"`, `id = "123456789"`}, 33, "office[0].locker[0].compartment[1].id", "1-8 lowercase letters"},
		{"compartment id a number", [2]string{`id = "2"`, `id = 2`}, 33, "", "office.locker.compartment.id: incompatible types"},
		{"document without a name", [2]string{`name = { pl = "Dowód osobisty" }`, ``}, 25, "office[0].locker[0].document[0].name", `no name in "pl"`},
		{"document id with a blank", [2]string{`id = "id-card"`, `id = "id card"`}, 26, "office[0].locker[0].document[0].id", `"id card" must be 1-40`},
		{"unknown locker setting", [2]string{`deadline = "7d"`, "deadline = \"7d\"\npin = 17"}, 24, "office.locker.pin", "unknown setting"},
	}
	text := good + goodLocker
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(text, tt.replace[0], tt.replace[1], 1)
			if bad == text {
				t.Fatal("replacement did not apply")
			}
			_, err := Parse("office.toml", []byte(bad))
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
}

func TestLockerWithoutCompartmentsOrDocuments(t *testing.T) {
	bare := good + "[[office.locker]]\nid = \"l\"\nname = { pl = \"U\" }\ndeadline = \"48h\"\n"
	_, err := Parse("office.toml", []byte(bare))
	for _, want := range []string{
		"office.toml:19: office[0].locker[0].compartment: no compartment defined",
		"office.toml:19: office[0].locker[0].document: no document type defined",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
	two := good + goodLocker + goodLocker
	if _, err := Parse("office.toml", []byte(two)); err == nil || !strings.Contains(err.Error(), `office.toml:37: office[0].locker[1].id: "hall" is already used by locker[0]`) {
		t.Errorf("two lockers with one id: %v", err)
	}
}

func TestParseDays(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"", 0, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"48h", 48 * time.Hour, false},
		{"90s", 90 * time.Second, false},
		{"1.5d", 0, true},
		{"-1d", 0, true},
		{"-3h", 0, true},
		{"d", 0, true},
		{"a week", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDays(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseDays(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// FuzzLockerSection: the [[office.locker]] tables are written by hand on
// site; whatever they hold, Parse answers with an office whose lockers
// make sense or with errors that each name a line, never a panic.
func FuzzLockerSection(f *testing.F) {
	f.Add(goodLocker)
	f.Add("[[office.locker]]\nid = \"x\"\n[[office.locker.compartment]]\nid = \"\"\n")
	f.Add("[[office.locker]]\ndeadline = \"99999999999d\"\n")
	f.Add(strings.Replace(goodLocker, `size = "S"`, `size = 5`, 1))
	f.Fuzz(func(t *testing.T, section string) {
		cfg, err := Parse("fuzz.toml", []byte(good+section))
		if err != nil {
			for _, e := range err.(Errors) {
				if e.File != "fuzz.toml" || e.Message == "" {
					t.Fatalf("an error without its file or message: %#v", e)
				}
			}
			return
		}
		for _, l := range cfg.Offices[0].Lockers {
			if l.Deadline <= 0 || len(l.Compartments) == 0 || len(l.Documents) == 0 {
				t.Fatalf("accepted a locker that cannot hold a deposit: %+v", l)
			}
			for _, c := range l.Compartments {
				if c.Size != "S" && c.Size != "M" && c.Size != "L" {
					t.Fatalf("accepted compartment %q of size %q", c.ID, c.Size)
				}
			}
		}
	})
}

// The example office shows a locker as docs/lockers.md describes one.
func TestExampleLocker(t *testing.T) {
	cfg, err := Load("../examples/offices/starachowice.toml")
	if err != nil {
		t.Fatal(err)
	}
	l, ok := cfg.Offices[0].Locker("parter-b")
	if !ok {
		t.Fatalf("no locker parter-b in %+v", cfg.Offices[0].Lockers)
	}
	factors := 0
	for _, d := range l.Documents {
		if d.SecondFactor {
			factors++
		}
	}
	if len(l.Compartments) != 12 || len(l.Documents) != 3 || factors != 1 || l.Deadline != 7*24*time.Hour {
		t.Errorf("example locker: %d compartments, %d documents (%d with a second factor), deadline %v", len(l.Compartments), len(l.Documents), factors, l.Deadline)
	}
}
