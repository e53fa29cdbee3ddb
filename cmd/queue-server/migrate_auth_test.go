package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/numerek/numerek/internal/pgtest"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/pgstore"
)

// migratedDB is a fresh database at this build's schema, opened.
func migratedDB(t *testing.T) (string, *pgstore.DB) {
	t.Helper()
	url := pgtest.Database(t)
	if err := pgstore.Migrate(context.Background(), url, io.Discard); err != nil {
		t.Fatal(err)
	}
	db, err := pgstore.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return url, db
}

// A data folder's tokens, clerks, devices and enrolment batches are
// copied with their secrets' hashes, so the same token, password and
// enrolment secret work on the database; a second run copies nothing and
// says so; a record the database holds otherwise is kept and named.
func TestMigrateAuthCopiesEveryRecordOnce(t *testing.T) {
	dir := t.TempDir()
	tokens := store.NewTokenStore(filepath.Join(dir, tokensFile))
	hall, hallTok, err := tokens.Create(store.Token{Office: "o1", Role: "hall", Label: "hall-1", Key: "MCowBQYDK2VwAyEA"})
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := tokens.Create(store.Token{Office: "*", Role: "admin", Label: "kierownik"})
	if err != nil {
		t.Fatal(err)
	}
	clerks := store.NewClerkStore(filepath.Join(dir, clerksFile)).WithCost(bcrypt.MinCost)
	for _, name := range []string{"anna", "zofia"} {
		if _, err := clerks.Put(name, name+" has a password", store.ClerkRole, []string{"o1"}); err != nil {
			t.Fatal(err)
		}
	}
	devices := store.NewDeviceStore(filepath.Join(dir, devicesFile))
	paired := time.Date(2026, 11, 23, 9, 0, 0, 123456789, time.UTC)
	device := store.DeviceRecord{ID: hallTok.ID, Name: "hall-1", Office: "o1", Role: "hall", Key: hallTok.Key, Paired: paired, PairedBy: "kierownik",
		Hardware: protocol.Hardware{Model: "Raspberry Pi 4"}, Settings: protocol.DeviceSettings{Revision: 3, TOML: "role = \"hall\"\n"}}
	if err := devices.PutDevice(device); err != nil {
		t.Fatal(err)
	}
	enrol, batch, err := devices.CreateBatch(store.EnrolmentBatch{Office: "o1", Role: "ticket", UsesLeft: 3, Expires: paired.Add(48 * time.Hour), Created: paired})
	if err != nil {
		t.Fatal(err)
	}

	_, db := migratedDB(t)
	var out bytes.Buffer
	if err := migrateAuth(context.Background(), dir, db, &out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"tokens.db: 2 tokens copied, 0 already in the database as they are",
		"clerks.db: 2 clerks copied, 0 already",
		"devices.db: 1 devices copied, 0 already",
		"devices.db: 1 enrolment batches copied, 0 already",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("migrate said:\n%s\nwant a line %q", out.String(), line)
		}
	}
	for _, secret := range []string{hall, admin} {
		if strings.Contains(out.String(), secret) {
			t.Error("migrate printed a token's secret")
		}
		if _, ok, err := db.Tokens().Lookup(secret); !ok || err != nil {
			t.Errorf("a token of the file does not work on the database: %v %v", ok, err)
		}
	}
	if c, err := db.Clerks().Check("anna", "anna has a password"); err != nil || c.Role != store.ClerkRole {
		t.Errorf("a clerk of the file logs in on the database: %+v %v", c, err)
	}
	if d, _, err := db.Devices().Device(hallTok.ID); err != nil || d.Settings != device.Settings || d.Hardware != device.Hardware || !d.Paired.Equal(paired.Truncate(time.Microsecond)) {
		t.Errorf("the device on the database: %+v %v", d, err)
	}
	if b, ok, err := db.Devices().UseBatch(enrol, paired.Add(time.Hour)); !ok || err != nil || b.ID != batch.ID || b.UsesLeft != 2 {
		t.Errorf("the enrolment secret on the database: %+v %v %v", b, ok, err)
	}

	// A second run copies nothing; a clerk whose password was changed on
	// the database meanwhile keeps it, and the run names them.
	if _, err := db.Clerks().WithCost(bcrypt.MinCost).Put("zofia", "a new password of zofia", store.AdminRole, []string{"*"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := migrateAuth(context.Background(), dir, db, &out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"tokens.db: 0 tokens copied, 2 already in the database as they are",
		"clerks.db: 0 clerks copied, 1 already in the database as they are",
		"clerks.db: clerk zofia is in the database already, otherwise than in the file: the database's is kept",
		"devices.db: 0 devices copied, 1 already",
		// The batch was used on the database since: it differs.
		"devices.db: enrolment batch " + batch.ID + " is in the database already, otherwise",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("the second run said:\n%s\nwant a line %q", out.String(), line)
		}
	}
	if _, err := db.Clerks().Check("zofia", "a new password of zofia"); err != nil {
		t.Errorf("the database's clerk was overwritten: %v", err)
	}
	if _, err := db.Clerks().Check("zofia", "zofia has a password"); !errors.Is(err, store.ErrBadLogin) {
		t.Errorf("the file's password works after the database's was kept: %v", err)
	}
}

// A folder without the files is nothing to copy, and no error.
func TestMigrateAuthWithoutFiles(t *testing.T) {
	_, db := migratedDB(t)
	var out bytes.Buffer
	if err := migrateAuth(context.Background(), t.TempDir(), db, &out); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{tokensFile, clerksFile, devicesFile} {
		if !strings.Contains(out.String(), f+": not in ") {
			t.Errorf("migrate said:\n%s\nwant %s named as not there", out.String(), f)
		}
	}
	if list, _ := db.Tokens().List(); len(list) != 0 {
		t.Errorf("tokens from nowhere: %+v", list)
	}
}
