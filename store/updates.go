package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/numerek/numerek/store/kv"
)

// System updates (issue 13) are kept in fleet.db too: the bundles admins
// uploaded (their files lie beside the database, named by hash), the
// rollouts they started, and each device's order of a rollout until the
// device has it and says how it went.
var (
	bucketFleetBundles  = []byte("bundles")
	bucketFleetRollouts = []byte("rollouts")
	bucketFleetOrders   = []byte("update-orders")
)

// BundleRecord is one uploaded bundle.
type BundleRecord struct {
	SHA256     string    `json:"sha256"`
	Version    string    `json:"version"`
	Compatible string    `json:"compatible"`
	Size       int64     `json:"size"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
}

// RolloutRecord is one rollout of a bundle to a set of devices.
type RolloutRecord struct {
	ID      string `json:"id"`
	Bundle  string `json:"bundle"` // the bundle's SHA256
	Version string `json:"version"`
	Size    int64  `json:"size"`
	// Target says what the admin chose: "device:<id>", "office:<id>",
	// "all".
	Target    string    `json:"target"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Cancelled time.Time `json:"cancelled,omitzero"`
}

// OrderRecord is one device's order of a rollout and where it stands.
type OrderRecord struct {
	Rollout string `json:"rollout"`
	Device  string `json:"device"`
	Office  string `json:"office"`
	// Sent is when the order last went out on the device's stream.
	Sent time.Time `json:"sent,omitzero"`
	// Taken is set once the device has reported the rollout in its health
	// report (or answered the order): the server stops sending it.
	Taken bool `json:"taken,omitempty"`
	// State, Percent, Error: the device's latest word
	// (protocol.UpdateProgress); State is empty while waiting.
	State   string    `json:"state,omitempty"`
	Percent int       `json:"percent,omitempty"`
	Error   string    `json:"error,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
	// Cancelled is set when the rollout was cancelled (or a later one
	// for the device replaced it) before the device took the order.
	Cancelled bool `json:"cancelled,omitempty"`
}

func orderKey(rollout, device string) []byte {
	return append(append([]byte(rollout), 0), device...)
}

func (f *FleetDB) updateBuckets() error {
	return f.db.Update(func(tx kv.Tx) error {
		for _, b := range [][]byte{bucketFleetBundles, bucketFleetRollouts, bucketFleetOrders} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

func putJSON(b kv.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func listJSON[T any](f *FleetDB, bucket []byte) ([]T, error) {
	var out []T
	err := f.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucket).ForEach(func(_, v []byte) error {
			var r T
			if json.Unmarshal(v, &r) == nil {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}

// PutBundle stores a bundle's record.
func (f *FleetDB) PutBundle(b BundleRecord) error {
	err := f.db.Update(func(tx kv.Tx) error { return putJSON(tx.Bucket(bucketFleetBundles), []byte(b.SHA256), b) })
	if err != nil {
		return fmt.Errorf("storing bundle %s: %w", b.SHA256, err)
	}
	return nil
}

// Bundles lists the bundles stored, in no order.
func (f *FleetDB) Bundles() ([]BundleRecord, error) {
	out, err := listJSON[BundleRecord](f, bucketFleetBundles)
	if err != nil {
		return nil, fmt.Errorf("reading the bundles: %w", err)
	}
	return out, nil
}

// PutRollout stores a rollout and its orders in one transaction.
func (f *FleetDB) PutRollout(r RolloutRecord, orders []OrderRecord) error {
	err := f.db.Update(func(tx kv.Tx) error {
		if err := putJSON(tx.Bucket(bucketFleetRollouts), []byte(r.ID), r); err != nil {
			return err
		}
		b := tx.Bucket(bucketFleetOrders)
		for _, o := range orders {
			if err := putJSON(b, orderKey(o.Rollout, o.Device), o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing rollout %s: %w", r.ID, err)
	}
	return nil
}

// PutOrders stores orders as they are now.
func (f *FleetDB) PutOrders(orders []OrderRecord) error {
	if len(orders) == 0 {
		return nil
	}
	err := f.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketFleetOrders)
		for _, o := range orders {
			if err := putJSON(b, orderKey(o.Rollout, o.Device), o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing %d update orders: %w", len(orders), err)
	}
	return nil
}

// Rollouts lists every rollout stored, and Orders every order.
func (f *FleetDB) Rollouts() ([]RolloutRecord, error) {
	out, err := listJSON[RolloutRecord](f, bucketFleetRollouts)
	if err != nil {
		return nil, fmt.Errorf("reading the rollouts: %w", err)
	}
	return out, nil
}

// Orders lists every update order stored.
func (f *FleetDB) Orders() ([]OrderRecord, error) {
	out, err := listJSON[OrderRecord](f, bucketFleetOrders)
	if err != nil {
		return nil, fmt.Errorf("reading the update orders: %w", err)
	}
	return out, nil
}
