package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
)

func TestDeviceRecordsKeptAndUpdated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devices.db")
	ds := NewDeviceStore(path)
	if list, err := ds.Devices(); err != nil || len(list) != 0 {
		t.Fatalf("a store never written: %v %v, want no devices", list, err)
	}
	if _, found, err := ds.Device("nope"); err != nil || found {
		t.Fatalf("an unknown device: found=%v %v", found, err)
	}
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, d := range []DeviceRecord{
		{ID: "b2", Name: "kiosk-lobby", Office: "o1", Role: "ticket", Key: "k", Paired: at, PairedBy: "kierownik",
			Hardware: protocol.Hardware{Model: "Raspberry Pi 4"}, Settings: protocol.DeviceSettings{Revision: 1, TOML: "role = \"ticket\"\n"}},
		{ID: "a1", Name: "counter-5", Office: "o1", Role: "counter", Counter: 5, Paired: at},
		{ID: "c3", Name: "hall", Office: "o0", Role: "hall", Paired: at},
	} {
		if err := ds.PutDevice(d); err != nil {
			t.Fatal(err)
		}
	}
	list, err := ds.Devices()
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, d := range list {
		order = append(order, d.Office+"/"+d.Name)
	}
	if got := strings.Join(order, " "); got != "o0/hall o1/counter-5 o1/kiosk-lobby" {
		t.Errorf("devices listed as %s, want by office then name", got)
	}
	d, found, err := ds.Device("b2")
	if err != nil || !found || d.Hardware.Model != "Raspberry Pi 4" || d.Settings.TOML != "role = \"ticket\"\n" || !d.Active() {
		t.Fatalf("device b2 read back as %+v (found=%v, %v)", d, found, err)
	}

	updated, err := ds.UpdateDevice("b2", func(d *DeviceRecord) error {
		d.Settings.Revision++
		d.Revoked = at.Add(time.Hour)
		return nil
	})
	if err != nil || updated.Settings.Revision != 2 || updated.Active() {
		t.Fatalf("update: %+v %v", updated, err)
	}
	if d, _, _ := ds.Device("b2"); d.Settings.Revision != 2 || !d.Revoked.Equal(at.Add(time.Hour)) {
		t.Errorf("the update was not kept: %+v", d)
	}
	refused := errors.New("refused")
	if _, err := ds.UpdateDevice("b2", func(d *DeviceRecord) error { d.Name = "changed"; return refused }); !errors.Is(err, refused) {
		t.Errorf("an update fn's error: %v", err)
	}
	if d, _, _ := ds.Device("b2"); d.Name != "kiosk-lobby" {
		t.Errorf("a refused update changed the name to %q", d.Name)
	}
	if _, err := ds.UpdateDevice("zz", func(*DeviceRecord) error { return nil }); !errors.Is(err, ErrNoDevice) {
		t.Errorf("updating an unknown device: %v, want ErrNoDevice", err)
	}
}

func TestEnrolmentBatchSpentAndEnded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devices.db")
	ds := NewDeviceStore(path)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	secret, b, err := ds.CreateBatch(EnrolmentBatch{Office: "o1", Role: "hall", NamePrefix: "hall-", UsesLeft: 2,
		Expires: now.Add(24 * time.Hour), CreatedBy: "kierownik", Created: now})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, EnrolmentPrefix) || b.ID == "" {
		t.Fatalf("secret %q, batch %+v", secret, b)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) {
		t.Error("the enrolment secret itself is in the file")
	}

	tests := []struct {
		name     string
		secret   string
		at       time.Time
		ok       bool
		usesLeft int
	}{
		{"wrong secret", secret + "x", now, false, 0},
		{"first use", secret, now, true, 1},
		{"second use", secret, now.Add(time.Hour), true, 0},
		{"no uses left", secret, now.Add(2 * time.Hour), false, 0},
	}
	for _, tt := range tests {
		got, ok, err := ds.UseBatch(tt.secret, tt.at)
		if err != nil || ok != tt.ok || (ok && (got.UsesLeft != tt.usesLeft || got.Office != "o1" || got.Role != "hall")) {
			t.Errorf("%s: %+v ok=%v %v, want ok=%v with %d uses left", tt.name, got, ok, err, tt.ok, tt.usesLeft)
		}
	}

	secret2, b2, err := ds.CreateBatch(EnrolmentBatch{Office: "o1", Role: "ticket", UsesLeft: 5, Expires: now.Add(time.Hour), Created: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ds.UseBatch(secret2, now.Add(time.Hour)); ok {
		t.Error("an expired batch paired a device")
	}
	list, err := ds.Batches()
	if err != nil || len(list) != 2 || list[0].ID != b2.ID {
		t.Fatalf("batches: %+v %v, want two, newest first", list, err)
	}
	if found, err := ds.EndBatch(b2.ID); err != nil || !found {
		t.Fatalf("ending: %v %v", found, err)
	}
	if _, ok, _ := ds.UseBatch(secret2, now); ok {
		t.Error("an ended batch paired a device")
	}
	if found, _ := ds.EndBatch(b2.ID); found {
		t.Error("a batch ended twice")
	}
}
