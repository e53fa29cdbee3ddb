package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/store/kv"
)

// The server's knowledge of its devices' health lives in fleet.db, apart
// from the office logs: each device's last report and when it was last
// heard from, and the history of its faults. Nothing in it is personal
// data (devices, not residents).
var (
	bucketFleetDevices = []byte("devices")
	bucketFleetFaults  = []byte("faults")
)

// DeviceSeen is a device as the server last heard from it.
type DeviceSeen struct {
	ID     string `json:"id"`
	Office string `json:"office"`
	Role   string `json:"role"`
	// LastSeen is when its last report arrived (the server's clock);
	// RunStart when its current run of reports began (after a silence
	// long enough to count it offline).
	LastSeen time.Time `json:"last_seen"`
	RunStart time.Time `json:"run_start"`
	// Report is the last report as the device sent it (protocol.HealthReport).
	Report json.RawMessage `json:"report,omitempty"`
}

// FaultRecord is one fault of a device, from its start to its end (zero
// while it lasts).
type FaultRecord struct {
	Device string    `json:"device"`
	Office string    `json:"office"`
	Code   string    `json:"code"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end,omitzero"`
	// Detail is what the report said when it began ("paper out", "84 °C");
	// Note is how it ended.
	Detail string `json:"detail,omitempty"`
	Note   string `json:"note,omitempty"`
	// Alerted is set once the office's admins were told of it, so its
	// end is told too.
	Alerted bool `json:"alerted,omitempty"`
}

// Open reports whether the fault still lasts.
func (f FaultRecord) Open() bool { return f.End.IsZero() }

// FleetDB is fleet.db: a bbolt file (OpenFleetDB), or a space of the
// PostgreSQL the nodes share (NewFleetDB).
type FleetDB struct {
	db kv.DB
	// file is the bbolt file, nil on PostgreSQL.
	file *bolt.DB
}

// OpenFleetDB opens (creating if needed) the fleet file at path.
func OpenFleetDB(path string) (*FleetDB, error) {
	file, err := openOrCreate(path, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	f, err := NewFleetDB(kv.Bolt(file))
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	f.file = file
	return f, nil
}

// NewFleetDB keeps the fleet's records in db.
func NewFleetDB(db kv.DB) (*FleetDB, error) {
	err := db.Update(func(tx kv.Tx) error {
		for _, b := range [][]byte{bucketFleetDevices, bucketFleetFaults} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("making the fleet's buckets: %w", err)
	}
	f := &FleetDB{db: db}
	if err := f.updateBuckets(); err != nil {
		return nil, err
	}
	return f, nil
}

// Close closes the file (nothing on PostgreSQL).
func (f *FleetDB) Close() error {
	if f.file == nil {
		return nil
	}
	return f.file.Close()
}

// PutDevices stores what is known of these devices, in one transaction
// (one sync of the file for a whole batch).
func (f *FleetDB) PutDevices(devs []DeviceSeen) error {
	if len(devs) == 0 {
		return nil
	}
	err := f.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketFleetDevices)
		for _, d := range devs {
			data, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(d.ID), data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing %d devices' last reports: %w", len(devs), err)
	}
	return nil
}

// DeleteDevice forgets a device's last report (a revoked device); its
// past faults stay until purged.
func (f *FleetDB) DeleteDevice(id string) error {
	err := f.db.Update(func(tx kv.Tx) error { return tx.Bucket(bucketFleetDevices).Delete([]byte(id)) })
	if err != nil {
		return fmt.Errorf("forgetting device %s's last report: %w", id, err)
	}
	return nil
}

// Devices lists every device stored.
func (f *FleetDB) Devices() ([]DeviceSeen, error) {
	var out []DeviceSeen
	err := f.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketFleetDevices).ForEach(func(_, v []byte) error {
			var d DeviceSeen
			if err := json.Unmarshal(v, &d); err != nil {
				return nil // a damaged record is skipped, not fatal
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading the devices' last reports: %w", err)
	}
	return out, nil
}

// faultKey orders a device's faults by start: device, NUL, start in
// nanoseconds (big endian), code.
func faultKey(r FaultRecord) []byte {
	k := append([]byte(r.Device), 0)
	k = binary.BigEndian.AppendUint64(k, uint64(r.Start.UnixNano()))
	return append(k, r.Code...)
}

// PutFaults stores faults that began or ended, in one transaction.
func (f *FleetDB) PutFaults(recs []FaultRecord) error {
	if len(recs) == 0 {
		return nil
	}
	err := f.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketFleetFaults)
		for _, r := range recs {
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put(faultKey(r), data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing %d faults: %w", len(recs), err)
	}
	return nil
}

// Faults lists a device's faults, newest first, at most limit (0: all).
func (f *FleetDB) Faults(device string, limit int) ([]FaultRecord, error) {
	var out []FaultRecord
	prefix := append([]byte(device), 0)
	err := f.db.View(func(tx kv.Tx) error {
		c := tx.Bucket(bucketFleetFaults).Cursor()
		// Seek past the prefix's last key, then walk back.
		end := append(append([]byte(nil), prefix[:len(prefix)-1]...), 1)
		k, _ := c.Seek(end)
		var v []byte
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			var r FaultRecord
			if json.Unmarshal(v, &r) == nil {
				out = append(out, r)
			}
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the faults of device %s: %w", device, err)
	}
	return out, nil
}

// OpenFaults lists every fault that still lasts, of every device.
func (f *FleetDB) OpenFaults() ([]FaultRecord, error) {
	var out []FaultRecord
	err := f.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketFleetFaults).ForEach(func(_, v []byte) error {
			var r FaultRecord
			if json.Unmarshal(v, &r) == nil && r.Open() {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading the open faults: %w", err)
	}
	return out, nil
}

// PurgeFaults deletes faults that ended before before, and says how many
// went: the history is for the weeks an admin looks back over, not
// forever.
func (f *FleetDB) PurgeFaults(before time.Time) (int, error) {
	n := 0
	err := f.db.Update(func(tx kv.Tx) error {
		var err error
		n, err = deleteWhere(tx.Bucket(bucketFleetFaults), func(_, v []byte) bool {
			var r FaultRecord
			return json.Unmarshal(v, &r) != nil || (!r.Open() && r.End.Before(before))
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purging old faults: %w", err)
	}
	return n, nil
}
