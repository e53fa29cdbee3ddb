package fleet

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/store"
)

// System updates (protocol/update.go): a rollout sends one bundle to a set
// of devices. Each device's order is kept (fleet.db) and sent on its
// control stream now if it is connected, else whenever it connects, until
// the device reports the rollout in its health report; from then on its
// reports say how the update goes.

// The states of a device's order as the rollout page counts them: the
// device's own protocol.Update* states, and these two of the server's.
const (
	// OrderWaiting: the device has not yet reported the rollout (it is
	// offline, or has not started).
	OrderWaiting = "waiting"
	// OrderCancelled: the rollout was cancelled, or a later one replaced
	// it, before the device took the order.
	OrderCancelled = "cancelled"
)

// OrderStates lists the states in the rollout page's order.
var OrderStates = []string{
	OrderWaiting, protocol.UpdateDownloading, protocol.UpdateInstalling, protocol.UpdateRebooting, protocol.UpdateTrial,
	protocol.UpdateCommitted, protocol.UpdateRolledBack, protocol.UpdateFailed, OrderCancelled,
}

// ErrNoRollout is a rollout id nobody started.
var ErrNoRollout = errors.New("no such rollout")

// Target is one device a rollout is for.
type Target struct {
	ID, Office string
}

// Rollout is a rollout with its devices' orders.
type Rollout struct {
	store.RolloutRecord
	Orders []store.OrderRecord
	// Counts is how many orders are in each state (OrderStates).
	Counts map[string]int
}

// Updates keeps the rollouts and sends their orders.
type Updates struct {
	hub   *Hub
	db    *store.FleetDB
	clock func() time.Time
	log   *slog.Logger

	mu       sync.Mutex
	rollouts map[string]*store.RolloutRecord
	// orders by rollout, then device.
	orders map[string]map[string]*store.OrderRecord
}

// NewUpdates reads the rollouts kept in db (nil: in memory only) and
// sends orders through hub.
func NewUpdates(hub *Hub, db *store.FleetDB, clock func() time.Time, log *slog.Logger) (*Updates, error) {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u := &Updates{hub: hub, db: db, clock: clock, log: log}
	if err := u.Reload(); err != nil {
		return nil, err
	}
	return u, nil
}

// Reload reads the rollouts and their orders from the store again,
// forgetting what is held in memory: a node taking the fleet over from
// another (docs/cluster.md) goes on with the rollouts that one ran.
func (u *Updates) Reload() error {
	rollouts, orders := map[string]*store.RolloutRecord{}, map[string]map[string]*store.OrderRecord{}
	if u.db != nil {
		rs, err := u.db.Rollouts()
		if err != nil {
			return err
		}
		for _, r := range rs {
			rollouts[r.ID] = &r
			orders[r.ID] = map[string]*store.OrderRecord{}
		}
		kept, err := u.db.Orders()
		if err != nil {
			return err
		}
		for _, o := range kept {
			if m := orders[o.Rollout]; m != nil {
				m[o.Device] = &o
			}
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.rollouts, u.orders = rollouts, orders
	return nil
}

// OrderActionID is the DeviceAction id of a rollout's order: the device
// answers a refusal to it (protocol.DeviceActionsPath).
func OrderActionID(rollout string) string { return "update-" + rollout }

func (u *Updates) action(r *store.RolloutRecord) protocol.DeviceAction {
	return protocol.DeviceAction{ID: OrderActionID(r.ID), Kind: protocol.ActionUpdate, At: r.At,
		Update: &protocol.UpdateOrder{Rollout: r.ID, Version: r.Version, SHA256: r.Bundle, Size: r.Size}}
}

// Start rolls bundle out to the devices, as asked by by; target says what
// the admin chose (store.RolloutRecord.Target). A device's order of an
// earlier rollout that it has not taken yet is cancelled: a device gets
// the latest bundle chosen for it, not each in turn.
func (u *Updates) Start(bundle store.BundleRecord, devices []Target, target, by string) (Rollout, error) {
	if len(devices) == 0 {
		return Rollout{}, errors.New("the rollout has no devices")
	}
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	now := u.clock()
	r := store.RolloutRecord{ID: hex.EncodeToString(id), Bundle: bundle.SHA256, Version: bundle.Version, Size: bundle.Size, Target: target, By: by, At: now}
	orders := make([]store.OrderRecord, 0, len(devices))
	u.mu.Lock()
	var replaced []store.OrderRecord
	for _, d := range devices {
		orders = append(orders, store.OrderRecord{Rollout: r.ID, Device: d.ID, Office: d.Office})
		for _, m := range u.orders {
			if o := m[d.ID]; o != nil && !o.Taken && !o.Cancelled {
				o.Cancelled, o.Updated = true, now
				replaced = append(replaced, *o)
			}
		}
	}
	u.mu.Unlock()
	if u.db != nil {
		if err := u.db.PutOrders(replaced); err != nil {
			return Rollout{}, err
		}
		if err := u.db.PutRollout(r, orders); err != nil {
			return Rollout{}, err
		}
	}
	u.mu.Lock()
	u.rollouts[r.ID] = &r
	m := map[string]*store.OrderRecord{}
	for i := range orders {
		m[orders[i].Device] = &orders[i]
	}
	u.orders[r.ID] = m
	u.mu.Unlock()
	for _, d := range devices {
		u.Send(d.ID)
	}
	u.log.Info("update rollout started", "rollout", r.ID, "version", r.Version, "devices", len(devices), "target", target, "by", by)
	out, _ := u.Rollout(r.ID)
	return out, nil
}

// Send sends the device its pending order, if it has one and a stream
// that takes control events: the hub calls it when the device connects.
func (u *Updates) Send(device string) {
	u.mu.Lock()
	var pending *store.OrderRecord
	var r *store.RolloutRecord
	for id, m := range u.orders {
		o := m[device]
		if o == nil || o.Taken || o.Cancelled || !u.rollouts[id].Cancelled.IsZero() {
			continue
		}
		if pending == nil || u.rollouts[id].At.After(r.At) {
			pending, r = o, u.rollouts[id]
		}
	}
	if pending == nil {
		u.mu.Unlock()
		return
	}
	act := u.action(r)
	u.mu.Unlock()
	if u.hub.Send(device, Control{Event: protocol.ActionEvent, Data: act}) == 0 {
		return
	}
	u.mu.Lock()
	pending.Sent = u.clock()
	rec := *pending
	u.mu.Unlock()
	u.log.Info("update order sent", "rollout", rec.Rollout, "device", device)
	if u.db != nil {
		if err := u.db.PutOrders([]store.OrderRecord{rec}); err != nil {
			u.log.Error("recording an update order sent", "device", device, "err", err)
		}
	}
}

// Observe takes the device's system as its health report says: its
// order of the rollout reported is taken, and its state follows the
// device's.
func (u *Updates) Observe(device string, sys *protocol.SystemHealth) error {
	if sys == nil || sys.Update == nil {
		return nil
	}
	p := sys.Update
	u.mu.Lock()
	o := u.orders[p.Rollout][device]
	if o == nil || (o.Taken && o.State == p.State && o.Percent == p.Percent && o.Error == p.Error) {
		u.mu.Unlock()
		return nil
	}
	o.Taken, o.Cancelled = true, false
	o.State, o.Percent, o.Error, o.Updated = p.State, p.Percent, p.Error, u.clock()
	rec := *o
	u.mu.Unlock()
	if u.db == nil {
		return nil
	}
	return u.db.PutOrders([]store.OrderRecord{rec})
}

// Answered records the device's answer to the order whose action id is
// actionID: taken (its health reports tell the rest), or refused
// (another update runs): failed, with the device's reason. found is false
// for an id that is no rollout's order of the device.
func (u *Updates) Answered(device, actionID string, res protocol.ActionResult) (found bool, err error) {
	u.mu.Lock()
	var o *store.OrderRecord
	for id, m := range u.orders {
		if OrderActionID(id) == actionID {
			o = m[device]
		}
	}
	if o == nil {
		u.mu.Unlock()
		return false, nil
	}
	o.Taken, o.Cancelled, o.Updated = true, false, u.clock()
	if !res.OK {
		o.State, o.Error = protocol.UpdateFailed, res.Detail
	}
	rec := *o
	u.mu.Unlock()
	if u.db == nil {
		return true, nil
	}
	return true, u.db.PutOrders([]store.OrderRecord{rec})
}

// Cancel cancels the rollout for the devices that have not taken their
// order; those that have go on (an install cannot be called back).
func (u *Updates) Cancel(id string) (Rollout, error) {
	u.mu.Lock()
	r := u.rollouts[id]
	if r == nil {
		u.mu.Unlock()
		return Rollout{}, ErrNoRollout
	}
	now := u.clock()
	r.Cancelled = now
	var changed []store.OrderRecord
	for _, o := range u.orders[id] {
		if !o.Taken && !o.Cancelled {
			o.Cancelled, o.Updated = true, now
			changed = append(changed, *o)
		}
	}
	rec := *r
	u.mu.Unlock()
	if u.db != nil {
		if err := u.db.PutRollout(rec, changed); err != nil {
			return Rollout{}, err
		}
	}
	u.log.Info("update rollout cancelled", "rollout", id, "orders", len(changed))
	return u.Rollout(id)
}

// OrderState is the state an order counts as.
func OrderState(o store.OrderRecord) string {
	switch {
	case o.Cancelled:
		return OrderCancelled
	case !o.Taken || o.State == "":
		return OrderWaiting
	}
	return o.State
}

// Rollout is one rollout with its orders, by device id.
func (u *Updates) Rollout(id string) (Rollout, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.rollouts[id]
	if r == nil {
		return Rollout{}, ErrNoRollout
	}
	return u.view(r), nil
}

func (u *Updates) view(r *store.RolloutRecord) Rollout {
	out := Rollout{RolloutRecord: *r, Counts: map[string]int{}}
	for _, o := range u.orders[r.ID] {
		out.Orders = append(out.Orders, *o)
		out.Counts[OrderState(*o)]++
	}
	slices.SortFunc(out.Orders, func(a, b store.OrderRecord) int {
		return cmp.Or(cmp.Compare(a.Office, b.Office), cmp.Compare(a.Device, b.Device))
	})
	return out
}

// Rollouts lists the rollouts with a device of an office sees accepts,
// newest first, each with only those devices' orders.
func (u *Updates) Rollouts(sees func(office string) bool) []Rollout {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []Rollout
	for _, r := range u.rollouts {
		v := u.view(r)
		v.Orders = slices.DeleteFunc(v.Orders, func(o store.OrderRecord) bool { return !sees(o.Office) })
		if len(v.Orders) == 0 {
			continue
		}
		v.Counts = map[string]int{}
		for _, o := range v.Orders {
			v.Counts[OrderState(o)]++
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Rollout) int { return cmp.Or(b.At.Compare(a.At), cmp.Compare(a.ID, b.ID)) })
	return out
}
