package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A locker (kioskd's locker role) journals every opening of a compartment
// in its device file before and after acting, as the kiosk journals its
// tickets: the entry is written (and synced) before the lock is pulsed,
// again when the door opens and when it closes, so after a power cut the
// file says truly which doors were opened for which deposit. The entries
// whose report the server has not acknowledged are in an outbox of their
// own, sent in order when the server can be reached.
var (
	bucketLockerJournal = []byte("locker-journal")
	bucketLockerOutbox  = []byte("locker-outbox")

	keyLockerThrottle = []byte("locker-throttle")
)

// LockerFlow is what a journalled opening (or a door's fault) was for.
type LockerFlow string

// The flows of a locker's journal.
const (
	// LockerFlowPickup: a resident's pickup code opened the compartment.
	LockerFlowPickup LockerFlow = "pickup"
	// LockerFlowDeposit: a clerk's code opened a reserved compartment to put
	// the document in.
	LockerFlowDeposit LockerFlow = "deposit"
	// LockerFlowRetrieval: a clerk's code opened a compartment to take an
	// expired document back.
	LockerFlowRetrieval LockerFlow = "retrieval"
	// LockerFlowFault: a door did what nobody asked of it (forced open, left
	// open, closed again after a fault); nothing was pulsed.
	LockerFlowFault LockerFlow = "fault"
)

// LockerPhase is where a journalled opening is.
type LockerPhase string

// The phases of a locker's journal entry; each change is one synced
// write.
const (
	// LockerOpening: journalled before the lock is pulsed. From here on
	// the code that asked for it is used: it never opens again.
	LockerOpening LockerPhase = "opening"
	// LockerOpen: the door opened after the pulse.
	LockerOpen LockerPhase = "open"
	// LockerClosed: the door closed again; the flow is done (At).
	LockerClosed LockerPhase = "closed"
	// LockerLockFailed: pulsed, but the door did not open in time. A
	// retry pulses again under the same entry.
	LockerLockFailed LockerPhase = "lock-failed"
	// LockerInterrupted: the device stopped after journalling the opening
	// and before the door was seen to open; whether the pulse went out is
	// not known. The code stays used.
	LockerInterrupted LockerPhase = "interrupted"
	// LockerNoted: a fault, recorded as it happened.
	LockerNoted LockerPhase = "noted"
)

// Live reports whether the door of the entry is still being waited for or
// is open under it.
func (p LockerPhase) Live() bool { return p == LockerOpening || p == LockerOpen }

// LockerReportState is how far the server has been told of an entry.
type LockerReportState string

// The states of an entry's report.
const (
	LockerReportNone     LockerReportState = ""         // nothing to tell
	LockerReportPending  LockerReportState = "pending"  // in the outbox
	LockerReportDone     LockerReportState = "done"     // the server has it
	LockerReportRejected LockerReportState = "rejected" // the server refused it (Note says why)
)

// LockerEntry is one opening of a compartment, or one fault of a door.
// It holds no code: only which of a deposit's codes it was and that
// code's salt, which tells one issued code from the next.
type LockerEntry struct {
	Key uint64 `json:"key"`
	// ID names the entry to the server (the report's id): a report sent
	// twice is applied once.
	ID          string      `json:"id"`
	Flow        LockerFlow  `json:"flow"`
	Phase       LockerPhase `json:"phase"`
	Deposit     string      `json:"deposit,omitempty"`
	Compartment string      `json:"compartment"`
	// Code is which of the deposit's codes opened it ("pickup", "clerk");
	// CodeSalt that code's salt.
	Code     string `json:"code,omitempty"`
	CodeSalt []byte `json:"code_salt,omitempty"`
	// Offline: the locker could not reach the server when it opened.
	Offline bool `json:"offline,omitempty"`
	// At is when the door closed, or the fault happened (server clock).
	At time.Time `json:"at,omitzero"`
	// Report is the report's kind (protocol.LockerReport's), once there is
	// one to send; Reported how far that went.
	Report   string            `json:"report,omitempty"`
	Reported LockerReportState `json:"reported,omitempty"`
	Note     string            `json:"note,omitempty"`
	// Changed is when the entry last changed, by the device's clock.
	Changed time.Time `json:"changed"`
}

// BeginLockerEntry journals a new entry, numbering it and naming it, and
// returns once it is on disk.
func (d *DeviceDB) BeginLockerEntry(e LockerEntry) (LockerEntry, error) {
	err := d.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketLockerJournal)
		if err != nil {
			return err
		}
		if e.Key, err = b.NextSequence(); err != nil {
			return err
		}
		e.ID = fmt.Sprintf("%s-L%06d", d.nonce, e.Key)
		e.Changed = time.Now()
		return putLockerEntry(tx, e)
	})
	if err != nil {
		return LockerEntry{}, fmt.Errorf("journalling the %s of compartment %s: %w", e.Flow, e.Compartment, err)
	}
	return e, nil
}

// UpdateLockerEntry changes the entry with key through fn in one synced
// write; an entry whose report stops pending leaves the outbox.
func (d *DeviceDB) UpdateLockerEntry(key uint64, fn func(*LockerEntry) error) (LockerEntry, error) {
	var e LockerEntry
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLockerJournal)
		if b == nil {
			return fmt.Errorf("locker journal entry %d: %w", key, ErrNoEntry)
		}
		v := b.Get(seqKey(key))
		if v == nil {
			return fmt.Errorf("locker journal entry %d: %w", key, ErrNoEntry)
		}
		var err error
		if e, err = decodeLockerEntry(seqKey(key), v); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
		e.Key, e.Changed = key, time.Now()
		return putLockerEntry(tx, e)
	})
	if err != nil {
		return LockerEntry{}, fmt.Errorf("updating locker journal entry %d: %w", key, err)
	}
	return e, nil
}

// LockerEntries returns the locker's journal after key, oldest first, up
// to limit entries (limit <= 0: all).
func (d *DeviceDB) LockerEntries(after uint64, limit int) ([]LockerEntry, error) {
	var out []LockerEntry
	err := d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLockerJournal)
		if b == nil {
			return nil // a file of another role, or from before lockers
		}
		var err error
		out, err = listAfter(b.Cursor(), after, limit, decodeLockerEntry)
		return err
	})
	return out, err
}

// PendingLockerReports returns the entries whose report the server has
// not acknowledged, oldest first.
func (d *DeviceDB) PendingLockerReports() ([]LockerEntry, error) {
	var out []LockerEntry
	err := d.db.View(func(tx *bolt.Tx) error {
		outbox, journal := tx.Bucket(bucketLockerOutbox), tx.Bucket(bucketLockerJournal)
		if outbox == nil || journal == nil {
			return nil
		}
		return outbox.ForEach(func(k, _ []byte) error {
			v := journal.Get(k)
			if v == nil {
				return fmt.Errorf("locker outbox names entry %d, which the journal lacks", binary.BigEndian.Uint64(k))
			}
			e, err := decodeLockerEntry(k, v)
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading the locker's outbox in %s: %w", d.path, err)
	}
	return out, nil
}

// PruneLockerJournal drops the entries that are settled, reported (or
// have nothing to report) and last changed before cutoff, and says how
// many went.
func (d *DeviceDB) PruneLockerJournal(cutoff time.Time) (int, error) {
	n := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLockerJournal)
		if b == nil {
			return nil
		}
		var err error
		n, err = deleteWhere(b, func(k, v []byte) bool {
			e, err := decodeLockerEntry(k, v)
			return err == nil && !e.Phase.Live() && e.Reported != LockerReportPending && e.Changed.Before(cutoff)
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning the locker journal of %s: %w", d.path, err)
	}
	return n, nil
}

// LockerThrottle is what slows down people guessing codes at a locker,
// kept across restarts (see device/locker).
type LockerThrottle struct {
	// Unknown counts the tries in a row whose lookup matched no live code;
	// LastUnknown is the last of them (server clock).
	Unknown     int       `json:"unknown"`
	LastUnknown time.Time `json:"last_unknown,omitzero"`
	// Wrong counts the wrong tries at each code whose lookup matched, by
	// the code's key (deposit, which code, its salt).
	Wrong map[string]int `json:"wrong,omitempty"`
}

// LockerThrottle returns the throttle as last saved (zero: none).
func (d *DeviceDB) LockerThrottle() (LockerThrottle, error) {
	var t LockerThrottle
	data, err := d.get(keyLockerThrottle)
	if err != nil || data == nil {
		return t, err
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return LockerThrottle{}, fmt.Errorf("reading the locker's throttle in %s: %w", d.path, err)
	}
	return t, nil
}

// SaveLockerThrottle keeps the throttle; it is synced before it returns,
// so a wrong try counts even if the power goes the moment after.
func (d *DeviceDB) SaveLockerThrottle(t LockerThrottle) error {
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding the locker's throttle: %w", err)
	}
	return d.put(keyLockerThrottle, data, "saving the locker's throttle")
}

func decodeLockerEntry(k, v []byte) (LockerEntry, error) {
	var e LockerEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return LockerEntry{}, fmt.Errorf("reading locker journal entry %d: %w", binary.BigEndian.Uint64(k), err)
	}
	return e, nil
}

// putLockerEntry writes e and keeps the outbox in step with its report.
func putLockerEntry(tx *bolt.Tx, e LockerEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding locker journal entry %d: %w", e.Key, err)
	}
	k := seqKey(e.Key)
	if err := tx.Bucket(bucketLockerJournal).Put(k, data); err != nil {
		return err
	}
	out, err := tx.CreateBucketIfNotExists(bucketLockerOutbox)
	if err != nil {
		return err
	}
	if e.Reported == LockerReportPending {
		return out.Put(k, []byte{})
	}
	return out.Delete(k)
}
