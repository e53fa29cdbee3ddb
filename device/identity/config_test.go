package identity

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/protocol"
)

// A paired device is checked by kioskctl as kioskd runs it: the server's
// settings (the newest heard) under the card's own file, with the
// credentials it was paired with.
func TestEffective(t *testing.T) {
	atPairing := protocol.DeviceSettings{Revision: 1, TOML: "role = \"counter\"\nname = \"counter-3\"\n[counter]\nnumber = 3\n"}
	newer := protocol.DeviceSettings{Revision: 2, TOML: "role = \"counter\"\nname = \"counter-3\"\n[counter]\nnumber = 4\n"}
	unfit := protocol.DeviceSettings{Revision: 3, TOML: "role = \"counter\"\n[counter]\nnumber = -1\n"}
	tests := []struct {
		name       string
		paired     bool
		cached     *protocol.DeviceSettings
		wantErr    error
		wantNumber int
	}{
		{name: "not paired yet", wantErr: ErrNotPaired},
		{name: "paired, settings given at pairing", paired: true, wantNumber: 3},
		{name: "paired, newer settings heard", paired: true, cached: &newer, wantNumber: 4},
		{name: "paired, settings that do not fit", paired: true, cached: &unfit, wantNumber: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "kioskd.toml")
			text := "data_dir = \"" + dir + "\"\n[server]\nurl = \"mdns\"\n"
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.paired {
				if _, _, err := Key(dir); err != nil {
					t.Fatal(err)
				}
				p := Paired{Credentials: protocol.Credentials{DeviceID: "d1", Token: "nmk_x", Office: "cus-starachowice", Role: "counter", Settings: atPairing},
					ServerURL: "http://10.0.0.2:8080"}
				if err := SavePaired(dir, p); err != nil {
					t.Fatal(err)
				}
			}
			if tt.cached != nil {
				if err := SaveSettings(dir, *tt.cached); err != nil {
					t.Fatal(err)
				}
			}
			local, err := config.ReadLocal(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, key, err := Effective(local)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want, _, _ := Key(dir); !key.Equal(want) {
				t.Error("the key given is not the device's")
			}
			if cfg.Role != config.RoleCounter || cfg.Counter.Number != tt.wantNumber {
				t.Errorf("role %s, counter %d; want counter %d", cfg.Role, cfg.Counter.Number, tt.wantNumber)
			}
			if cfg.Server.Office != "cus-starachowice" || cfg.Server.Token != "nmk_x" || cfg.Server.URL != "http://10.0.0.2:8080" {
				t.Errorf("server %+v, want the paired office and token at the server it was paired with", cfg.Server)
			}
		})
	}

	t.Run("set up by hand", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "kioskd.toml")
		text := "role = \"hall\"\ndata_dir = \"" + dir + "\"\n[server]\nurl = \"http://10.0.0.2:8080\"\noffice = \"cus-starachowice\"\ntoken = \"nmk_y\"\n"
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		local, err := config.ReadLocal(file)
		if err != nil {
			t.Fatal(err)
		}
		cfg, key, err := Effective(local)
		if err != nil || cfg.Role != config.RoleHall || cfg.Server.Token != "nmk_y" || key != nil {
			t.Fatalf("cfg %+v, key %v, err %v; want the hall of the file and no key", cfg, key != nil, err)
		}
	})
}
