package identity

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/numerek/numerek/protocol"
)

func TestKeyIsMadeOnceAndKeptSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	key, replaced, err := Key(dir)
	if err != nil || replaced {
		t.Fatalf("first start: %v, replaced %v", err, replaced)
	}
	again, _, err := Key(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Equal(again) {
		t.Error("the second start made another key: the device would lose its pairing at each restart")
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestDamagedKeyIsReplaced(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("half a ke"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, replaced, err := Key(dir)
	if err != nil || !replaced || len(key) == 0 {
		t.Fatalf("Key = %d bytes, replaced %v, %v; want a new key and replaced", len(key), replaced, err)
	}
}

func paired() Paired {
	return Paired{ServerURL: "http://10.0.0.2:8080", Credentials: protocol.Credentials{
		DeviceID: "tok_1", Token: "nmk_secret", Office: "cus-starachowice", Role: "hall", Name: "hall-lcd",
		Settings: protocol.DeviceSettings{Revision: 3, TOML: "role = \"hall\"\n"},
	}}
}

func TestCredentialsAfterAPowerCut(t *testing.T) {
	good := paired()
	tests := []struct {
		name string
		// cut leaves the data folder as a power cut at some moment would.
		cut         func(t *testing.T, dir string)
		wantPaired  bool
		wantCorrupt bool
	}{
		{"never paired", func(t *testing.T, dir string) {}, false, false},
		{"saved", func(t *testing.T, dir string) { must(t, SavePaired(dir, good)) }, true, false},
		{"cut before the rename of a second save", func(t *testing.T, dir string) {
			must(t, SavePaired(dir, good))
			must(t, os.WriteFile(filepath.Join(dir, "."+CredentialsFile+".123"), []byte(`{"tok`), 0o600))
		}, true, false},
		{"torn by something else", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, CredentialsFile), []byte(`{"device_id":"tok_1","tok`), 0o600))
		}, false, true},
		{"empty", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, CredentialsFile), nil, 0o600))
		}, false, true},
		{"without a token", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, CredentialsFile), []byte(`{"office":"x","server_url":"http://a"}`), 0o600))
		}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.cut(t, dir)
			p, err := LoadPaired(dir)
			if tt.wantCorrupt != errors.Is(err, ErrCorrupt) {
				t.Fatalf("LoadPaired error %v, want damaged: %v", err, tt.wantCorrupt)
			}
			if !tt.wantCorrupt && err != nil {
				t.Fatal(err)
			}
			if (p != nil) != tt.wantPaired {
				t.Fatalf("paired = %v, want %v", p != nil, tt.wantPaired)
			}
			if p != nil && (p.Token != good.Token || p.ServerURL != good.ServerURL || p.Settings != good.Settings) {
				t.Errorf("read %+v, want %+v", *p, good)
			}
		})
	}
}

func TestSavedCredentialsAreSecretAndForgotten(t *testing.T) {
	dir := t.TempDir()
	must(t, SavePaired(dir, paired()))
	st, err := os.Stat(filepath.Join(dir, CredentialsFile))
	must(t, err)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("credentials mode %v, want 0600", st.Mode().Perm())
	}
	s, found, err := LoadSettings(dir)
	if err != nil || !found || s.Revision != 3 {
		t.Fatalf("settings after pairing: %+v, %v, %v; want the credentials' revision 3", s, found, err)
	}
	must(t, SaveSettings(dir, protocol.DeviceSettings{Revision: 4, TOML: "role = \"counter\"\n"}))
	if s, _, _ := LoadSettings(dir); s.Revision != 4 {
		t.Errorf("settings revision %d after saving 4", s.Revision)
	}
	must(t, Forget(dir))
	if p, err := LoadPaired(dir); p != nil || err != nil {
		t.Errorf("after Forget: %v, %v; want unpaired", p, err)
	}
	if _, found, _ := LoadSettings(dir); found {
		t.Error("the settings outlived the pairing")
	}
	must(t, Forget(dir)) // forgetting twice is fine (kioskctl unpair on an unpaired device)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("left in the data folder: %s", e.Name())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Whatever a damaged card leaves in the credentials file, the device
// boots: paired with whole credentials, or unpaired.
func FuzzLoadPaired(f *testing.F) {
	f.Add([]byte(`{"device_id":"tok_1","token":"nmk_1","office":"cus-x","server_url":"http://a","settings":{"revision":1,"toml":""}}`))
	f.Add([]byte(`{"token":`))
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, CredentialsFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := LoadPaired(dir)
		switch {
		case err != nil && !errors.Is(err, ErrCorrupt):
			t.Fatalf("error %v is not ErrCorrupt", err)
		case err != nil && p != nil:
			t.Fatal("credentials and an error")
		case err == nil && (p == nil || p.Token == "" || p.Office == "" || p.ServerURL == ""):
			t.Fatalf("read %+v without an error", p)
		}
	})
}
