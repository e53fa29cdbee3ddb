package storetest

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/store"
)

// sameDevice compares records as a reader does: times by their instant.
func sameDevice(a, b store.DeviceRecord) bool {
	if !a.Paired.Equal(b.Paired) || !a.Revoked.Equal(b.Revoked) {
		return false
	}
	a.Paired, b.Paired, a.Revoked, b.Revoked = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

// RunDevices tests a device store: open gives a new, empty one and what
// it has written.
func RunDevices(t *testing.T, open func(t *testing.T) (Devices, Raw)) {
	t.Run("records kept and updated", func(t *testing.T) { devicesKept(t, open) })
	t.Run("updates at once lose nothing", func(t *testing.T) {
		ds, _ := open(t)
		if err := ds.PutDevice(store.DeviceRecord{ID: "a1", Name: "hall", Office: "o", Role: "hall"}); err != nil {
			t.Fatal(err)
		}
		const admins = 8
		var wg sync.WaitGroup
		for range admins {
			wg.Go(func() {
				if _, err := ds.UpdateDevice("a1", func(d *store.DeviceRecord) error { d.Settings.Revision++; return nil }); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if d, _, err := ds.Device("a1"); err != nil || d.Settings.Revision != admins {
			t.Errorf("after %d updates at once the revision is %d (%v): an edit was lost", admins, d.Settings.Revision, err)
		}
	})
	t.Run("enrolment batches spent and ended", func(t *testing.T) { batchesSpent(t, open) })
}

func devicesKept(t *testing.T, open func(t *testing.T) (Devices, Raw)) {
	ds, _ := open(t)
	if list, err := ds.Devices(); err != nil || len(list) != 0 {
		t.Fatalf("a store never written: %v %v, want no devices", list, err)
	}
	if _, found, err := ds.Device("nope"); err != nil || found {
		t.Fatalf("an unknown device: found=%v %v", found, err)
	}
	if err := ds.PutDevice(store.DeviceRecord{Name: "no-id"}); err == nil || !strings.Contains(err.Error(), "no id") {
		t.Errorf("a device without an id: %v", err)
	}
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	records := []store.DeviceRecord{
		{ID: "b2", Name: "kiosk-lobby", Office: "o1", Role: "ticket", Key: "k", Fingerprint: "AB12 CD34", Paired: at, PairedBy: "kierownik", Version: "1.4.0",
			Hardware: protocol.Hardware{Model: "Raspberry Pi 4", Serial: "10000000abcdef", Hostname: "kiosk", MAC: "dc:a6:32:01:02:03", Screen: "1920x1080", Printer: true},
			Settings: protocol.DeviceSettings{Revision: 1, TOML: "role = \"ticket\"\n"}},
		{ID: "a1", Name: "counter-5", Office: "o1", Role: "counter", Counter: 5, Paired: at, PairedBy: "enrolment:0a1b2c3d"},
		{ID: "c3", Name: "hall", Office: "o0", Role: "hall", Paired: at, Revoked: at.Add(time.Hour)},
	}
	for _, d := range records {
		if err := ds.PutDevice(d); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range records {
		if d, found, err := ds.Device(want.ID); err != nil || !found || !sameDevice(d, want) {
			t.Errorf("device %s read back as %+v (found=%v, %v), want %+v", want.ID, d, found, err, want)
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
		t.Errorf("devices listed as %s, want by office then name, revoked ones too", got)
	}

	replaced := records[1]
	replaced.Name = "counter-6"
	replaced.Counter = 6
	if err := ds.PutDevice(replaced); err != nil {
		t.Fatal(err)
	}
	if d, _, _ := ds.Device("a1"); !sameDevice(d, replaced) {
		t.Errorf("a device put again reads %+v, want %+v", d, replaced)
	}

	updated, err := ds.UpdateDevice("b2", func(d *store.DeviceRecord) error {
		if d.Hardware.Model != "Raspberry Pi 4" {
			t.Errorf("the update saw %+v, not the stored record", d)
		}
		d.Settings.Revision++
		d.Revoked = at.Add(time.Hour)
		d.ID = "changed"
		return nil
	})
	if err != nil || updated.Settings.Revision != 2 || updated.Active() || updated.ID != "b2" {
		t.Fatalf("update: %+v %v", updated, err)
	}
	if d, _, _ := ds.Device("b2"); !sameDevice(d, updated) {
		t.Errorf("the update was kept as %+v, want %+v", d, updated)
	}
	refused := errors.New("refused")
	if _, err := ds.UpdateDevice("b2", func(d *store.DeviceRecord) error { d.Name = "changed"; return refused }); !errors.Is(err, refused) {
		t.Errorf("an update fn's error: %v", err)
	}
	if d, _, _ := ds.Device("b2"); d.Name != "kiosk-lobby" {
		t.Errorf("a refused update changed the name to %q", d.Name)
	}
	if _, err := ds.UpdateDevice("zz", func(*store.DeviceRecord) error { return nil }); !errors.Is(err, store.ErrNoDevice) || !strings.Contains(err.Error(), "zz") {
		t.Errorf("updating an unknown device: %v, want ErrNoDevice naming it", err)
	}
}

func batchesSpent(t *testing.T, open func(t *testing.T) (Devices, Raw)) {
	ds, raw := open(t)
	if list, err := ds.Batches(); err != nil || len(list) != 0 {
		t.Fatalf("batches of an empty store: %v %v", list, err)
	}
	if _, ok, err := ds.UseBatch("nmke_nothing", time.Now()); ok || err != nil {
		t.Fatalf("using a secret in an empty store: ok=%v %v", ok, err)
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	in := store.EnrolmentBatch{Office: "o1", Role: "hall", NamePrefix: "hall-", UsesLeft: 2,
		Expires: now.Add(24 * time.Hour), CreatedBy: "kierownik", Created: now}
	secret, b, err := ds.CreateBatch(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, store.EnrolmentPrefix) || len(b.ID) != 8 || b.SecretHash != store.Hash(secret) {
		t.Fatalf("secret %q, batch %+v", secret, b)
	}
	written, err := raw()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(written, []byte(strings.TrimPrefix(secret, store.EnrolmentPrefix))) {
		t.Error("the enrolment secret itself is in the store")
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
		if err != nil || ok != tt.ok || (ok && (got.UsesLeft != tt.usesLeft || got.Office != "o1" || got.Role != "hall" || got.NamePrefix != "hall-" || got.ID != b.ID)) {
			t.Errorf("%s: %+v ok=%v %v, want ok=%v with %d uses left", tt.name, got, ok, err, tt.ok, tt.usesLeft)
		}
		if !ok && got != (store.EnrolmentBatch{}) {
			t.Errorf("%s: refused, yet gave %+v", tt.name, got)
		}
	}

	secret2, b2, err := ds.CreateBatch(store.EnrolmentBatch{Office: "o1", Role: "ticket", UsesLeft: 5, Expires: now.Add(time.Hour), Created: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ds.UseBatch(secret2, now.Add(time.Hour)); ok {
		t.Error("a batch was used at the moment it expired")
	}
	list, err := ds.Batches()
	if err != nil || len(list) != 2 || list[0].ID != b2.ID || list[1].UsesLeft != 0 || list[0].UsesLeft != 5 {
		t.Fatalf("batches: %+v %v, want two, newest first, the first spent", list, err)
	}
	if found, err := ds.EndBatch(b2.ID); err != nil || !found {
		t.Fatalf("ending: %v %v", found, err)
	}
	if _, ok, _ := ds.UseBatch(secret2, now); ok {
		t.Error("an ended batch paired a device")
	}
	if found, err := ds.EndBatch(b2.ID); found || err != nil {
		t.Errorf("a batch ended twice: found=%v %v", found, err)
	}
	if list, _ := ds.Batches(); len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("after ending one: %+v", list)
	}
}
