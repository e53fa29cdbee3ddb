package slots

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// ParseRaucStatus reads `rauc status --output-format=json` (RAUC 1.8) as
// a Status: for a process that may not read the card's first partition
// (kioskd runs as its own user; RAUC's service answers anyone on D-Bus).
// Tryboot is the other slot while RAUC calls it good, else the primary.
func ParseRaucStatus(data []byte) (Status, error) {
	var doc struct {
		Booted      string                       `json:"booted"`
		BootPrimary string                       `json:"boot_primary"`
		Slots       []map[string]json.RawMessage `json:"slots"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return Status{}, fmt.Errorf("rauc status: %w", err)
	}
	type slotInfo struct {
		Bootname   string `json:"bootname"`
		BootStatus string `json:"boot_status"`
	}
	byName := map[string]slotInfo{}
	for _, entry := range doc.Slots {
		for name, raw := range entry {
			var s slotInfo
			if err := json.Unmarshal(raw, &s); err != nil {
				return Status{}, fmt.Errorf("rauc status: slot %s: %w", name, err)
			}
			byName[name] = s
		}
	}
	primary, ok := byName[doc.BootPrimary]
	if !ok || primary.Bootname == "" {
		return Status{}, fmt.Errorf("rauc status: the primary %q is no bootable slot", doc.BootPrimary)
	}
	st := Status{Booted: doc.Booted, Primary: primary.Bootname, Tryboot: primary.Bootname}
	for _, s := range []string{st.Booted, st.Primary} {
		if _, err := Partition(s); err != nil {
			return Status{}, fmt.Errorf("rauc status: %w", err)
		}
	}
	for _, s := range byName {
		if s.Bootname == Other(st.Primary) && s.BootStatus == "good" {
			st.Tryboot = s.Bootname
		}
	}
	return st, nil
}

// RaucStatus asks RAUC (the rauc command, e.g. "rauc") where the slots
// stand.
func RaucStatus(ctx context.Context, rauc ...string) (Status, error) {
	args := append(append([]string{}, rauc[1:]...), "status", "--output-format=json")
	out, err := exec.CommandContext(ctx, rauc[0], args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return Status{}, fmt.Errorf("rauc status: %w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return Status{}, fmt.Errorf("rauc status: %w", err)
	}
	return ParseRaucStatus(out)
}
