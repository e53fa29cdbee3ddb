package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadLocal(t *testing.T) {
	tests := []struct {
		name, text string
		want       func(l *Local) bool
		wantErr    string
	}{
		{"a device configured by hand", "role = \"hall\"\n[server]\nurl = \"http://10.0.0.2:8080\"\noffice = \"cus-x\"\ntoken = \"nmk_1\"\n",
			func(l *Local) bool { return l.ByHand }, ""},
		{"a device to pair", "data_dir = \"data\"\n[server]\nurl = \"http://10.0.0.2:8080\"\n[status]\nlisten = \"127.0.0.1:7070\"\n",
			func(l *Local) bool {
				return !l.ByHand && !l.Discover() && l.ServerURL == "http://10.0.0.2:8080" && strings.HasSuffix(l.DataDir, "/data") &&
					l.Status.Listen == "127.0.0.1:7070" && l.Screen.Width == 1920 && l.Printer.URI == ""
			}, ""},
		{"finding the server", "[server]\nurl = \"mdns\"\n[screen]\nwidth = 800\nheight = 480\n",
			func(l *Local) bool { return l.Discover() && l.DataDir == defaultDataDir && l.Screen.Width == 800 }, ""},
		{"a kiosk's printer", "[server]\nurl = \"mdns\"\n[printer]\nuri = \"usb:///dev/usb/lp0\"\n",
			func(l *Local) bool { return l.Printer.URI == "usb:///dev/usb/lp0" && l.Printer.Profile != "" }, ""},
		{"a wrong address", "[server]\nurl = \"10.0.0.2:8080\"\n", nil, "kioskd.toml:2: server.url: \"10.0.0.2:8080\" is not an http:// or https:// address"},
		{"a misspelt setting", "[server]\nurl = \"mdns\"\n[screen]\nwidht = 800\n", nil, "kioskd.toml:4: screen.widht: unknown setting"},
		{"an enrolment secret", "[server]\nurl = \"mdns\"\nenrolment_file = \"secret\"\n",
			func(l *Local) bool { return l.Enrolment == "nmke_batch" }, ""},
		{"an enrolment secret not there (yet)", "[server]\nurl = \"mdns\"\nenrolment_file = \"none\"\n",
			func(l *Local) bool { return l.Enrolment == "" }, ""},
		{"an enrolment file of two secrets", "[server]\nurl = \"mdns\"\nenrolment_file = \"two\"\n", nil, "kioskd.toml:3: server.enrolment_file:"},
		{"a status page for all", "[server]\nurl = \"mdns\"\n[status]\nlisten = \"0.0.0.0:7070\"\n", nil, "status.listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "kioskd.toml")
			for name, text := range map[string]string{"secret": "nmke_batch\n", "two": "nmke_a\nnmke_b\n"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := ReadLocal(path)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case !tt.want(l):
				t.Errorf("read %+v", *l)
			}
		})
	}
}

func TestLayeredTakesTheServerFoundOrPairedWith(t *testing.T) {
	creds := Credentials{Office: "cus-x", Token: "nmk_1", ServerURL: "http://10.0.0.9:8080"}
	for _, local := range []string{"[server]\nurl = \"mdns\"\n", ""} {
		cfg, err := Layered([]byte("role = \"hall\"\n"), "/etc/kioskd.toml", []byte(local), creds)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Server.URL != creds.ServerURL {
			t.Errorf("local %q: server %q, want %q", local, cfg.Server.URL, creds.ServerURL)
		}
	}
}
