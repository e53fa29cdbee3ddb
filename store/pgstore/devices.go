package pgstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numerek/numerek/store"
)

// DeviceStore keeps paired devices and enrolment batches in the database
// every node shares; it behaves as store.DeviceStore does (the same
// records, the same errors; a batch's secret kept only as its SHA-256).
type DeviceStore struct {
	db *DB
}

// Devices is the database's device store.
func (db *DB) Devices() *DeviceStore { return &DeviceStore{db: db} }

const deviceColumns = "id, name, office, role, counter, key, fingerprint, hardware, version, settings_revision, settings_toml, paired, paired_by, revoked"

func scanDevice(row pgx.Row) (store.DeviceRecord, error) {
	var d store.DeviceRecord
	var revoked *time.Time
	err := row.Scan(&d.ID, &d.Name, &d.Office, &d.Role, &d.Counter, &d.Key, &d.Fingerprint, &d.Hardware, &d.Version,
		&d.Settings.Revision, &d.Settings.TOML, &d.Paired, &d.PairedBy, &revoked)
	d.Paired = d.Paired.UTC()
	if revoked != nil {
		d.Revoked = revoked.UTC()
	}
	return d, err
}

// deviceRow is d's columns in deviceColumns' order, its times as the
// database keeps them.
func deviceRow(d *store.DeviceRecord) []any {
	d.Paired, d.Revoked = micro(d.Paired), micro(d.Revoked)
	var revoked *time.Time
	if !d.Revoked.IsZero() {
		revoked = &d.Revoked
	}
	return []any{d.ID, d.Name, d.Office, d.Role, d.Counter, d.Key, d.Fingerprint, d.Hardware, d.Version,
		d.Settings.Revision, d.Settings.TOML, d.Paired, d.PairedBy, revoked}
}

const putDevice = "INSERT INTO devices (" + deviceColumns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) " +
	"ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, office = EXCLUDED.office, role = EXCLUDED.role, counter = EXCLUDED.counter, " +
	"key = EXCLUDED.key, fingerprint = EXCLUDED.fingerprint, hardware = EXCLUDED.hardware, version = EXCLUDED.version, " +
	"settings_revision = EXCLUDED.settings_revision, settings_toml = EXCLUDED.settings_toml, paired = EXCLUDED.paired, " +
	"paired_by = EXCLUDED.paired_by, revoked = EXCLUDED.revoked"

// PutDevice stores a device's record, new or replacing the one with its ID.
func (ds *DeviceStore) PutDevice(d store.DeviceRecord) error {
	if d.ID == "" {
		return errors.New("storing a device: it has no id")
	}
	ctx, cancel := statement()
	defer cancel()
	if _, err := ds.db.Pool.Exec(ctx, putDevice, deviceRow(&d)...); err != nil {
		return fmt.Errorf("storing device %s: %w", d.ID, err)
	}
	return nil
}

// ImportDevice stores a device of a devices file unless the database has
// one of its id already: added=false then, and the database's is kept.
func (ds *DeviceStore) ImportDevice(d store.DeviceRecord) (added bool, err error) {
	ctx, cancel := statement()
	defer cancel()
	tag, err := ds.db.Pool.Exec(ctx, "INSERT INTO devices ("+deviceColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING",
		deviceRow(&d)...)
	if err != nil {
		return false, fmt.Errorf("importing device %s: %w", d.ID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// Device returns the device with id; found=false if there is none.
func (ds *DeviceStore) Device(id string) (d store.DeviceRecord, found bool, err error) {
	ctx, cancel := statement()
	defer cancel()
	d, err = scanDevice(ds.db.Pool.QueryRow(ctx, "SELECT "+deviceColumns+" FROM devices WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.DeviceRecord{}, false, nil
	}
	if err != nil {
		return store.DeviceRecord{}, false, fmt.Errorf("reading device %s: %w", id, err)
	}
	return d, true, nil
}

// Devices returns every device, revoked ones too, by office and name.
func (ds *DeviceStore) Devices() ([]store.DeviceRecord, error) {
	out, err := queryAll(ds.db, "SELECT "+deviceColumns+" FROM devices ORDER BY office COLLATE \"C\", name COLLATE \"C\"", scanDevice)
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	return out, nil
}

// UpdateDevice changes the device with id in one transaction, its row
// locked, so two admins saving at once (on any nodes) do not lose an
// edit: fn sees the stored record. store.ErrNoDevice if there is none;
// an error from fn changes nothing.
func (ds *DeviceStore) UpdateDevice(id string, fn func(*store.DeviceRecord) error) (store.DeviceRecord, error) {
	ctx, cancel := statement()
	defer cancel()
	var d store.DeviceRecord
	err := pgx.BeginFunc(ctx, ds.db.Pool, func(tx pgx.Tx) error {
		var err error
		d, err = scanDevice(tx.QueryRow(ctx, "SELECT "+deviceColumns+" FROM devices WHERE id = $1 FOR UPDATE", id))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNoDevice
		}
		if err != nil {
			return err
		}
		if err := fn(&d); err != nil {
			return err
		}
		d.ID = id
		_, err = tx.Exec(ctx, putDevice, deviceRow(&d)...)
		return err
	})
	if err != nil {
		return store.DeviceRecord{}, fmt.Errorf("updating device %s: %w", id, err)
	}
	return d, nil
}

const batchColumns = "id, secret_hash, office, role, name_prefix, uses_left, expires, created_by, created"

func scanBatch(row pgx.Row) (store.EnrolmentBatch, error) {
	var b store.EnrolmentBatch
	err := row.Scan(&b.ID, &b.SecretHash, &b.Office, &b.Role, &b.NamePrefix, &b.UsesLeft, &b.Expires, &b.CreatedBy, &b.Created)
	b.Expires, b.Created = b.Expires.UTC(), b.Created.UTC()
	return b, err
}

// CreateBatch stores a new enrolment batch and returns its secret, shown
// once: only its hash is kept.
func (ds *DeviceStore) CreateBatch(b store.EnrolmentBatch) (string, store.EnrolmentBatch, error) {
	secret, b, err := store.NewBatch(b)
	if err != nil {
		return "", store.EnrolmentBatch{}, err
	}
	b.Expires, b.Created = micro(b.Expires), micro(b.Created)
	if _, err := ds.insertBatch(b, ""); err != nil {
		return "", store.EnrolmentBatch{}, fmt.Errorf("storing enrolment batch: %w", err)
	}
	return secret, b, nil
}

func (ds *DeviceStore) insertBatch(b store.EnrolmentBatch, onConflict string) (added bool, err error) {
	ctx, cancel := statement()
	defer cancel()
	tag, err := ds.db.Pool.Exec(ctx, "INSERT INTO enrolment_batches ("+batchColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"+onConflict,
		b.ID, b.SecretHash, b.Office, b.Role, b.NamePrefix, b.UsesLeft, micro(b.Expires), b.CreatedBy, micro(b.Created))
	return err == nil && tag.RowsAffected() > 0, err
}

// ImportBatch stores an enrolment batch of a devices file, its secret's
// hash as it is, unless the database has one of its id or secret
// already: added=false then, and the database's is kept.
func (ds *DeviceStore) ImportBatch(b store.EnrolmentBatch) (added bool, err error) {
	added, err = ds.insertBatch(b, " ON CONFLICT DO NOTHING")
	if err != nil {
		return false, fmt.Errorf("importing enrolment batch %s: %w", b.ID, err)
	}
	return added, nil
}

// Batches returns every enrolment batch, newest first.
func (ds *DeviceStore) Batches() ([]store.EnrolmentBatch, error) {
	out, err := queryAll(ds.db, "SELECT "+batchColumns+" FROM enrolment_batches ORDER BY created DESC", scanBatch)
	if err != nil {
		return nil, fmt.Errorf("listing enrolment batches: %w", err)
	}
	return out, nil
}

// UseBatch spends one use of the batch whose secret is given, if it is
// usable at now; ok=false (and nothing spent) for an unknown secret, an
// ended or expired batch, or one with no uses left. The batch's row is
// locked meanwhile, so two devices pairing at once on two nodes cannot
// both spend its last use.
func (ds *DeviceStore) UseBatch(secret string, now time.Time) (b store.EnrolmentBatch, ok bool, err error) {
	ctx, cancel := statement()
	defer cancel()
	err = pgx.BeginFunc(ctx, ds.db.Pool, func(tx pgx.Tx) error {
		var err error
		b, err = scanBatch(tx.QueryRow(ctx, "SELECT "+batchColumns+" FROM enrolment_batches WHERE secret_hash = $1 FOR UPDATE", store.Hash(secret)))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil || !b.Usable(now) {
			return err
		}
		b.UsesLeft--
		ok = true
		_, err = tx.Exec(ctx, "UPDATE enrolment_batches SET uses_left = $2 WHERE id = $1", b.ID, b.UsesLeft)
		return err
	})
	if err != nil {
		return store.EnrolmentBatch{}, false, fmt.Errorf("using an enrolment secret: %w", err)
	}
	if !ok {
		return store.EnrolmentBatch{}, false, nil
	}
	return b, true, nil
}

// EndBatch ends a batch before its time: its secret pairs nothing more.
// found=false if no batch has the id.
func (ds *DeviceStore) EndBatch(id string) (found bool, err error) {
	found, err = deleted(ds.db, "DELETE FROM enrolment_batches WHERE id = $1", id)
	if err != nil {
		return false, fmt.Errorf("ending enrolment batch %s: %w", id, err)
	}
	return found, nil
}
