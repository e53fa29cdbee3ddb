package store

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/protocol"
)

// The paired devices' file (devices.db) holds what the server knows of
// each device it paired and the enrolment batches admins made. It holds
// no personal data: a device's name is a place ("kiosk-lobby"), and the
// admin who paired it is a login name, as in the audit trail.
var (
	bucketDevices   = []byte("devices")
	bucketEnrolment = []byte("enrolment")
)

// DeviceRecord is a paired device as the server keeps it. Its ID is its
// token's ID; the token itself lives in the token file.
type DeviceRecord struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Office  string `json:"office"`
	Role    string `json:"role"` // ticket, counter or hall
	Counter int    `json:"counter,omitempty"`
	// Key is the device's Ed25519 public key (standard base64), the one
	// its token is bound to; Fingerprint is how people compare it.
	Key         string                  `json:"key"`
	Fingerprint string                  `json:"fingerprint"`
	Hardware    protocol.Hardware       `json:"hardware"`
	Version     string                  `json:"version"`
	Settings    protocol.DeviceSettings `json:"settings"`
	Paired      time.Time               `json:"paired"`
	// PairedBy is the admin who approved the pairing, or "enrolment:" and
	// the batch's id.
	PairedBy string `json:"paired_by"`
	// Revoked is when the device's credentials were revoked; zero while
	// it works.
	Revoked time.Time `json:"revoked,omitzero"`
}

// Active reports whether the device has not been revoked.
func (d DeviceRecord) Active() bool { return d.Revoked.IsZero() }

// EnrolmentBatch lets devices pair without an admin typing each code: a
// device that gives the batch's secret is approved at once for its office
// and role. The secret is shown once; only its SHA-256 is kept.
type EnrolmentBatch struct {
	ID         string    `json:"id"`
	SecretHash string    `json:"secret_hash"`
	Office     string    `json:"office"`
	Role       string    `json:"role"`
	NamePrefix string    `json:"name_prefix"`
	UsesLeft   int       `json:"uses_left"`
	Expires    time.Time `json:"expires"`
	CreatedBy  string    `json:"created_by"`
	Created    time.Time `json:"created"`
}

// Usable reports whether the batch still pairs devices at now.
func (b EnrolmentBatch) Usable(now time.Time) bool { return b.UsesLeft > 0 && now.Before(b.Expires) }

// EnrolmentPrefix starts every enrolment secret, so one is recognised on
// a card or in a log.
const EnrolmentPrefix = "nmke_"

// ErrNoDevice is an id no paired device has.
var ErrNoDevice = errors.New("no such device")

// DeviceStore keeps paired devices and enrolment batches in their own
// bbolt file, opened for each operation as the token file is: the pages
// that use it are few and slow, and a closed file is backed up by copying.
type DeviceStore struct {
	path string
}

// NewDeviceStore uses the devices file at path (created on first write).
func NewDeviceStore(path string) *DeviceStore { return &DeviceStore{path: path} }

// Path is the devices file.
func (ds *DeviceStore) Path() string { return ds.path }

func (ds *DeviceStore) update(fn func(tx *bolt.Tx) error) error {
	return updateFile(ds.path, "devices", [][]byte{bucketDevices, bucketEnrolment}, fn)
}

func (ds *DeviceStore) view(fn func(tx *bolt.Tx) error) error {
	return viewFile(ds.path, [][]byte{bucketDevices, bucketEnrolment}, fn)
}

// PutDevice stores a device's record, new or replacing the one with its ID.
func (ds *DeviceStore) PutDevice(d DeviceRecord) error {
	if d.ID == "" {
		return errors.New("storing a device: it has no id")
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding device %s: %w", d.ID, err)
	}
	if err := ds.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketDevices).Put([]byte(d.ID), data) }); err != nil {
		return fmt.Errorf("storing device %s: %w", d.ID, err)
	}
	return nil
}

// Device returns the device with id; found=false if there is none.
func (ds *DeviceStore) Device(id string) (d DeviceRecord, found bool, err error) {
	err = ds.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketDevices).Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &d)
	})
	if err != nil {
		return DeviceRecord{}, false, fmt.Errorf("reading device %s: %w", id, err)
	}
	return d, found, nil
}

// listRecords reads every JSON record of bucket; what names a record in
// an error.
func listRecords[T any](ds *DeviceStore, bucket []byte, what string) ([]T, error) {
	var out []T
	err := ds.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			var x T
			if err := json.Unmarshal(v, &x); err != nil {
				return fmt.Errorf("%s %s: %w", what, k, err)
			}
			out = append(out, x)
			return nil
		})
	})
	return out, err
}

// Devices returns every device, revoked ones too, by office and name.
func (ds *DeviceStore) Devices() ([]DeviceRecord, error) {
	out, err := listRecords[DeviceRecord](ds, bucketDevices, "device")
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Office != out[j].Office {
			return out[i].Office < out[j].Office
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// UpdateDevice changes the device with id in one transaction, so two
// admins saving at once do not lose an edit: fn sees the stored record.
// ErrNoDevice if there is none; an error from fn changes nothing.
func (ds *DeviceStore) UpdateDevice(id string, fn func(*DeviceRecord) error) (DeviceRecord, error) {
	var d DeviceRecord
	err := ds.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDevices)
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNoDevice
		}
		if err := json.Unmarshal(v, &d); err != nil {
			return err
		}
		if err := fn(&d); err != nil {
			return err
		}
		d.ID = id
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), data)
	})
	if err != nil {
		return DeviceRecord{}, fmt.Errorf("updating device %s: %w", id, err)
	}
	return d, nil
}

// CreateBatch stores a new enrolment batch and returns its secret, shown
// once: only its hash is kept.
func (ds *DeviceStore) CreateBatch(b EnrolmentBatch) (string, EnrolmentBatch, error) {
	secret, b, err := NewBatch(b)
	if err != nil {
		return "", EnrolmentBatch{}, err
	}
	data, err := json.Marshal(b)
	if err != nil {
		return "", EnrolmentBatch{}, err
	}
	if err := ds.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketEnrolment).Put([]byte(b.ID), data) }); err != nil {
		return "", EnrolmentBatch{}, fmt.Errorf("storing enrolment batch: %w", err)
	}
	return secret, b, nil
}

// NewBatch gives b a new id and secret, keeping only the secret's hash:
// what every device store does before it keeps a batch. The secret is
// shown once.
func NewBatch(b EnrolmentBatch) (string, EnrolmentBatch, error) {
	secret, id, err := newSecret(EnrolmentPrefix, 4)
	if err != nil {
		return "", EnrolmentBatch{}, fmt.Errorf("making an enrolment secret: %w", err)
	}
	b.ID = id
	b.SecretHash = Hash(secret)
	return secret, b, nil
}

// Batches returns every enrolment batch, newest first.
func (ds *DeviceStore) Batches() ([]EnrolmentBatch, error) {
	out, err := listRecords[EnrolmentBatch](ds, bucketEnrolment, "enrolment batch")
	if err != nil {
		return nil, fmt.Errorf("listing enrolment batches: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// UseBatch spends one use of the batch whose secret is given, if it is
// usable at now; ok=false (and nothing spent) for an unknown secret, an
// ended or expired batch, or one with no uses left.
func (ds *DeviceStore) UseBatch(secret string, now time.Time) (b EnrolmentBatch, ok bool, err error) {
	want := hashSecret(secret)
	err = ds.update(func(tx *bolt.Tx) error {
		bucket := tx.Bucket(bucketEnrolment)
		var key []byte
		err := bucket.ForEach(func(k, v []byte) error {
			var x EnrolmentBatch
			if json.Unmarshal(v, &x) == nil && subtle.ConstantTimeCompare([]byte(x.SecretHash), want) == 1 {
				key, b = append([]byte(nil), k...), x
			}
			return nil
		})
		if err != nil || key == nil || !b.Usable(now) {
			return err
		}
		b.UsesLeft--
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		ok = true
		return bucket.Put(key, data)
	})
	if err != nil {
		return EnrolmentBatch{}, false, fmt.Errorf("using an enrolment secret: %w", err)
	}
	if !ok {
		return EnrolmentBatch{}, false, nil
	}
	return b, true, nil
}

// EndBatch ends a batch before its time: its secret pairs nothing more.
// found=false if no batch has the id.
func (ds *DeviceStore) EndBatch(id string) (found bool, err error) {
	err = ds.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEnrolment)
		found = b.Get([]byte(id)) != nil
		return b.Delete([]byte(id))
	})
	if err != nil {
		return false, fmt.Errorf("ending enrolment batch %s: %w", id, err)
	}
	return found, nil
}
