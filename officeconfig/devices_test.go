package officeconfig

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDevicesSetting(t *testing.T) {
	const email = "[messages.email]\nhost = \"smtp.example.pl\"\nfrom = \"kolejka@example.pl\"\n"
	tests := []struct {
		name, before, after string
		want                map[string]DeviceAlerts // by office id; "" is the default
		err                 string
	}{
		{name: "none", want: map[string]DeviceAlerts{"": {OfflineAfter: 5 * time.Minute}, "x": {OfflineAfter: 5 * time.Minute}}},
		{name: "for every office", before: email + "[devices]\nalert_to = [\"it@example.pl\"]\nalert_webhook = \"https://chat.example.pl/hook/1\"\noffline_after = \"10m\"\n",
			want: map[string]DeviceAlerts{"x": {To: []string{"it@example.pl"}, Webhook: "https://chat.example.pl/hook/1", OfflineAfter: 10 * time.Minute}}},
		{name: "an office's own over the default", before: email + "[devices]\nalert_to = [\"it@example.pl\"]\noffline_after = \"10m\"\n",
			after: "[office.devices]\nalert_to = [\"kierownik@example.pl\", \"it@example.pl\"]\nalert_webhook = \"http://10.0.0.5/alerts\"\n",
			want: map[string]DeviceAlerts{
				"":  {To: []string{"it@example.pl"}, OfflineAfter: 10 * time.Minute},
				"x": {To: []string{"kierownik@example.pl", "it@example.pl"}, Webhook: "http://10.0.0.5/alerts", OfflineAfter: 10 * time.Minute},
			}},
		{name: "a name is not an address", before: email + "[devices]\nalert_to = [\"IT dept\"]\n", err: "o.toml:5: devices.alert_to[0]: \"IT dept\" is not an e-mail address"},
		{name: "not a URL", before: "[devices]\nalert_webhook = \"chat.example.pl\"\n", err: "o.toml:2: devices.alert_webhook: \"chat.example.pl\" is not an http(s) address"},
		{name: "not a duration", before: "[devices]\noffline_after = \"5 minutes\"\n", err: "o.toml:2: devices.offline_after: \"5 minutes\" is not a duration"},
		{name: "too short", before: "[devices]\noffline_after = \"30s\"\n", err: "devices.offline_after: 30s: at least 1m"},
		{name: "e-mail without SMTP", before: "[devices]\nalert_to = [\"it@example.pl\"]\n", err: "o.toml:2: devices.alert_to: e-mail alerts need [messages.email]"},
		{name: "an office's bad key", after: "[office.devices]\noffline_after = \"soon\"\n", err: "office[0].devices.offline_after: \"soon\" is not a duration"},
		{name: "unknown key", before: "[devices]\nalert_sms = [\"500600700\"]\n", err: "o.toml:2: devices.alert_sms: unknown setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("o.toml", []byte(tt.before+good+tt.after))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for office, want := range tt.want {
				got := cfg.Devices.Default
				if office != "" {
					got = cfg.Devices.For(office)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%q: %+v, want %+v", office, got, want)
				}
			}
		})
	}
}
