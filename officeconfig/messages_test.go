package officeconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMessagesSetting(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "smtp-password"), []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "o.toml")
	tests := []struct {
		name, text string
		check      func(t *testing.T, m Messages)
		err        string
	}{
		{"none", "", func(t *testing.T, m Messages) {
			if m.Enabled() || m.ReminderAt != 16*time.Hour {
				t.Errorf("%+v", m)
			}
		}, ""},
		{"email with defaults", "[messages.email]\nhost = \"smtp.example.pl\"\nfrom = \"Urząd <kolejka@example.pl>\"\nusername = \"kolejka\"\npassword_file = \"smtp-password\"\n",
			func(t *testing.T, m Messages) {
				want := &Email{Host: "smtp.example.pl", Port: 587, Username: "kolejka", Password: "from-a-file", From: "Urząd <kolejka@example.pl>", TLS: TLSStartTLS}
				if !reflect.DeepEqual(m.Email, want) || m.SMS != nil || !m.Enabled() {
					t.Errorf("email %+v", m.Email)
				}
			}, ""},
		{"local relay", "[messages.email]\nhost = \"localhost\"\nfrom = \"k@example.pl\"\ntls = \"none\"\n", func(t *testing.T, m Messages) {
			if m.Email.Port != 25 {
				t.Errorf("port %d", m.Email.Port)
			}
		}, ""},
		{"smsapi", "[messages]\nreminder_at = \"17:30\"\ngive_up_after_hours = 6\n[messages.sms]\ndriver = \"smsapi\"\ntoken = \"abc\"\nsender = \"UMStarach\"\n",
			func(t *testing.T, m Messages) {
				want := &SMS{Driver: "smsapi", URL: SMSAPIURL, Token: "abc", Sender: "UMStarach", CountryCode: "48"}
				if !reflect.DeepEqual(m.SMS, want) || m.ReminderAt != 17*time.Hour+30*time.Minute || m.GiveUpAfter != 6*time.Hour {
					t.Errorf("%+v %+v", m, m.SMS)
				}
			}, ""},
		{"bad tls", "[messages.email]\nhost = \"h\"\nfrom = \"k@example.pl\"\ntls = \"ssl\"\n", nil, `o.toml:4: messages.email.tls: "ssl" is not starttls, tls or none`},
		{"bad from", "[messages.email]\nhost = \"h\"\nfrom = \"kolejka\"\n", nil, `o.toml:3: messages.email.from: "kolejka" is not an address`},
		{"missing password file", "[messages.email]\nhost = \"h\"\nfrom = \"k@example.pl\"\nusername = \"u\"\npassword_file = \"nope\"\n", nil, "o.toml:5: messages.email.password_file: cannot read"},
		{"unknown driver", "[messages.sms]\ndriver = \"twilio\"\n", nil, `o.toml:2: messages.sms.driver: "twilio" is not smsapi or webhook`},
		{"smsapi without token", "[messages.sms]\ndriver = \"smsapi\"\n", nil, "o.toml:2: messages.sms.driver: smsapi needs token"},
		{"webhook without url", "[messages.sms]\ndriver = \"webhook\"\n", nil, "o.toml:2: messages.sms.driver: webhook needs url"},
		{"long sender", "[messages.sms]\ndriver = \"smsapi\"\ntoken = \"t\"\nsender = \"UrzadMiastaStarachowice\"\n", nil, "o.toml:4: messages.sms.sender"},
		{"bad hour", "[messages]\nreminder_at = \"4pm\"\n", nil, `o.toml:2: messages.reminder_at: "4pm" is not a time of day`},
		{"unknown key", "[messages.email]\nhost = \"h\"\nfrom = \"k@example.pl\"\nport_number = 2\n", nil, "o.toml:4: messages.email.port_number: unknown setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(name, []byte(tt.text+good))
			if tt.err != "" {
				want := strings.Replace(tt.err, "o.toml", name, 1)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("error %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg.Messages)
		})
	}
}

// The office's address, map link and per-service "what to bring" in
// each language; a language the server does not speak is an error.
func TestOfficeMessagesSettings(t *testing.T) {
	text := strings.Replace(good, "[office.hours]", "address = \"ul. Radomska 45\"\nmap_url = \"https://osm.org/go/x\"\n[office.hours]", 1) +
		"[office.service.bring]\npl = \"Dowód\"\nen = \"ID card\"\n"
	cfg, err := Parse("o.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := OfficeMessages{Address: "ul. Radomska 45", MapURL: "https://osm.org/go/x", Bring: map[string]map[string]string{"a": {"pl": "Dowód", "en": "ID card"}}}
	if got := cfg.Messages.Offices["x"]; !reflect.DeepEqual(got, want) {
		t.Errorf("office messages %+v, want %+v", got, want)
	}
	_, err = Parse("o.toml", []byte(strings.Replace(text, "en = \"ID card\"", "de = \"Ausweis\"", 1)))
	if err == nil || !strings.Contains(err.Error(), `office[0].service[0].bring: "de" is not one of`) {
		t.Errorf("error %v", err)
	}
}
