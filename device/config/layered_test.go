package config

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings string
		want     string // "" for fine, else a fragment of the error
	}{
		{"a hall", "role = \"hall\"\nname = \"hall-lcd\"\n[screen]\nwidth = 1920\nheight = 1080\nmessage = \"Prosimy o ciszę\"\n", ""},
		{"a counter", "role = \"counter\"\n[counter]\nnumber = 5\n", ""},
		{"a wrong role", "name = \"x\"\nrole = \"printer\"\n", "settings:2: role: \"printer\" is not ticket, counter, hall or locker"},
		{"the server's address", "role = \"hall\"\n[server]\nurl = \"http://10.0.0.2:8080\"\n", "settings:2: server: set on the device itself"},
		{"a data folder", "role = \"hall\"\ndata_dir = \"/tmp\"\n", "settings:2: data_dir: set on the device itself"},
		{"an unknown setting", "role = \"hall\"\n[screen]\nwidht = 5\n", "settings:3: screen.widht: unknown setting"},
		{"not TOML", "role = \n", "settings:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSettings([]byte(tt.settings))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestLayeredLocalFileWinsForHardware(t *testing.T) {
	settings := "role = \"hall\"\nname = \"hall-lcd\"\nlanguages = [\"pl\", \"uk\"]\n[screen]\nwidth = 1920\nheight = 1080\nmessage = \"Godziny przyjęć 7:30-15:30\"\n"
	local := "data_dir = \"/var/lib/kioskd\"\n[server]\nurl = \"http://10.0.0.2:8080\"\n[screen]\nwidth = 1280\nheight = 720\n"
	cfg, err := Layered([]byte(settings), "/etc/numerek/kioskd.toml", []byte(local), Credentials{Office: "cus-starachowice", Token: "nmk_x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Role != RoleHall || cfg.Name != "hall-lcd" || cfg.Screen.Message != "Godziny przyjęć 7:30-15:30" || strings.Join(cfg.Languages, ",") != "pl,uk" {
		t.Errorf("the server's settings were not kept: %+v", cfg)
	}
	if cfg.Screen.Width != 1280 || cfg.Screen.Height != 720 {
		t.Errorf("screen %dx%d, want the local panel's 1280x720", cfg.Screen.Width, cfg.Screen.Height)
	}
	if cfg.Server.Office != "cus-starachowice" || cfg.Server.Token != "nmk_x" || cfg.Server.URL != "http://10.0.0.2:8080" {
		t.Errorf("server %+v, want the credentials' office and token at the local address", cfg.Server)
	}

	_, err = Layered([]byte("role = \"hall\"\n[screen]\nrotation = 45\n"), "/etc/numerek/kioskd.toml",
		[]byte("[server]\nurl = \"http://10.0.0.2:8080\"\noffice = \"other\"\n"), Credentials{Office: "cus-starachowice", Token: "nmk_x"})
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want the problems listed", err)
	}
	got := err.Error()
	for _, want := range []string{"/etc/numerek/kioskd.toml:3: server.office: this device is paired", "settings:3: screen.rotation"} {
		if !strings.Contains(got, want) {
			t.Errorf("errors %q\nwant %q", got, want)
		}
	}
}
