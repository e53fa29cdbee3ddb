package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A device (kioskd) keeps one bbolt file of its own. Every write is one
// transaction that bbolt syncs before it returns, so a power cut leaves the
// file as it was after the last write that returned.
var (
	bucketDevice  = []byte("device")
	bucketJournal = []byte("journal")
	bucketOutbox  = []byte("outbox")
	bucketLeases  = []byte("leases")

	keyNonce     = []byte("nonce")
	keyFollowed  = []byte("followed")
	keyClock     = []byte("clock-offset")
	keyAnnounced = []byte("announced")
)

// DeviceDB is a device's own file: the office state it last followed (so a
// restarted screen shows it at once), the server's clock offset, the last
// call the hall announced, and for a ticket kiosk its journal of tickets,
// the outbox of tickets issued offline and its number leases.
type DeviceDB struct {
	db    *bolt.DB
	path  string
	nonce string
}

// OpenDevice opens (creating if needed) the device file at path. Only one
// process may hold it: a second kioskd on the same data folder gets
// ErrLocked.
func OpenDevice(path string) (*DeviceDB, error) {
	db, err := openBolt(path, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, err
	}
	d := &DeviceDB{db: db, path: path}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDevice, bucketJournal, bucketOutbox, bucketLeases} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketDevice)
		if n := meta.Get(keyNonce); n != nil {
			d.nonce = string(n)
			return nil
		}
		// The nonce keeps this file's request ids apart from those of an
		// earlier file of the same device (a replaced SD card reuses the
		// token, and the server remembers request ids for a week).
		b := make([]byte, 4)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		d.nonce = hex.EncodeToString(b)
		return meta.Put(keyNonce, []byte(d.nonce))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return d, nil
}

// OpenDeviceReadOnly opens an existing device file to read it (kioskctl
// journal). It waits at most a second for a running kioskd, which holds
// the file, and then says so.
func OpenDeviceReadOnly(path string) (*DeviceDB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db, err := openBolt(path, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	d := &DeviceDB{db: db, path: path}
	err = db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDevice, bucketJournal, bucketOutbox, bucketLeases} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("it is not a kioskd device file (no %s)", b)
			}
		}
		d.nonce = string(tx.Bucket(bucketDevice).Get(keyNonce))
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return d, nil
}

// Close closes the file.
func (d *DeviceDB) Close() error { return d.db.Close() }

// Path is the file's path.
func (d *DeviceDB) Path() string { return d.path }

// Followed is the office as a device last followed it: the office's
// configuration and its state at Seq, both as the server sends them.
type Followed struct {
	Office  json.RawMessage `json:"office"`
	State   json.RawMessage `json:"state"`
	Seq     uint64          `json:"seq"`
	SavedAt time.Time       `json:"saved_at"`
}

// SaveFollowed replaces the followed state.
func (d *DeviceDB) SaveFollowed(f Followed) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encoding the followed state: %w", err)
	}
	return d.put(keyFollowed, data, "saving the followed state")
}

// LoadFollowed returns the followed state last saved, or ok=false.
func (d *DeviceDB) LoadFollowed() (f Followed, ok bool, err error) {
	data, err := d.get(keyFollowed)
	if err != nil || data == nil {
		return Followed{}, false, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return Followed{}, false, fmt.Errorf("reading the followed state of %s: %w", d.path, err)
	}
	return f, true, nil
}

// SaveClockOffset keeps how far the server's clock is ahead of this
// device's, so a device restarted while the server is away keeps office
// time.
func (d *DeviceDB) SaveClockOffset(off time.Duration) error {
	return d.put(keyClock, seqKey(uint64(off)), "saving the clock offset")
}

// ClockOffset returns the offset last saved, or ok=false.
func (d *DeviceDB) ClockOffset() (off time.Duration, ok bool, err error) {
	data, err := d.get(keyClock)
	if err != nil || len(data) != 8 {
		return 0, false, err
	}
	return time.Duration(binary.BigEndian.Uint64(data)), true, nil
}

// Announced is how far a hall has said its calls, oldest first.
type Announced struct {
	// Seq is the seq of the last call said in full, or, when Parts is not
	// 0, of the call being said: every call before it has been said (or
	// let go unsaid).
	Seq uint64
	// Parts, when not 0, is how many of the announcements of the call at
	// Seq (one per language) have been said.
	Parts int
}

// Announced is how far the hall has said its calls (zero: none yet).
func (d *DeviceDB) Announced() (Announced, error) {
	data, err := d.get(keyAnnounced)
	if err != nil {
		return Announced{}, err
	}
	switch len(data) {
	case 8: // a call said in full (also what older versions wrote)
		return Announced{Seq: binary.BigEndian.Uint64(data)}, nil
	case 16:
		return Announced{Seq: binary.BigEndian.Uint64(data), Parts: int(binary.BigEndian.Uint64(data[8:]))}, nil
	}
	return Announced{}, nil
}

// SetAnnounced records how far the hall has said its calls. It is synced
// before it returns: the hall records each announcement once it has been
// heard, so a restart neither says it again nor skips what was not said.
func (d *DeviceDB) SetAnnounced(a Announced) error {
	value := seqKey(a.Seq)
	if a.Parts != 0 {
		value = binary.BigEndian.AppendUint64(value, uint64(a.Parts))
	}
	return d.put(keyAnnounced, value, "recording the calls announced")
}

func (d *DeviceDB) put(key, value []byte, doing string) error {
	if err := d.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDevice).Put(key, value)
	}); err != nil {
		return fmt.Errorf("%s in %s: %w", doing, d.path, err)
	}
	return nil
}

func (d *DeviceDB) get(key []byte) ([]byte, error) {
	var out []byte
	err := d.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketDevice).Get(key); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", d.path, err)
	}
	return out, nil
}
