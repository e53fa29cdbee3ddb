package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numerek/numerek/device/identity"
	"github.com/numerek/numerek/protocol"
)

// kioskctl pairing says what the data folder holds; unpair forgets the
// credentials (the key stays) and says what else to do.
func TestPairingAndUnpair(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "kioskd.toml")
	os.WriteFile(cfg, []byte("data_dir = \"data\"\n[server]\nurl = \"mdns\"\n"), 0o600)

	steps := []struct {
		name, cmd string
		before    func()
		want      []string
	}{
		{"before the first start", "pairing", nil, []string{"key:      none yet", "paired:   no"}},
		{"paired", "pairing", func() {
			identity.Key(data)
			identity.SavePaired(data, identity.Paired{ServerURL: "http://10.0.0.2:8080", Credentials: protocol.Credentials{
				DeviceID: "tok_7", Token: "nmk_secret", Office: "cus-starachowice", Role: "hall", Name: "hall-lcd",
				Settings: protocol.DeviceSettings{Revision: 4, TOML: "role = \"hall\"\n"}}})
		}, []string{"paired:   yes, as device tok_7", "office:   cus-starachowice", "role:     hall \"hall-lcd\"", "settings: revision 4"}},
		{"unpair", "unpair", nil, []string{"Forgot the pairing as device tok_7", "revoke the device on http://10.0.0.2:8080/staff/devices"}},
		{"unpaired", "pairing", nil, []string{"paired:   no"}},
		{"unpair again", "unpair", nil, []string{"was not paired"}},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		code, stdout, stderr := runCmd(t, st.cmd, "--config", cfg)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", st.name, code, stderr)
		}
		for _, w := range st.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s: kioskctl %s says\n%s\nwant %q", st.name, st.cmd, stdout, w)
			}
		}
		if strings.Contains(stdout, "nmk_secret") {
			t.Errorf("%s: the token is printed", st.name)
		}
	}
	if pub, _ := identity.PublicKey(data); pub == nil {
		t.Error("unpair removed the device's key")
	}
	code, _, stderr := runCmd(t, "unpair", "--config", "../../examples/devices/hall.toml")
	if code != 1 || !strings.Contains(stderr, "does not pair") {
		t.Errorf("unpair of a device configured by hand: exit %d, %s", code, stderr)
	}
}
