package storetest

import (
	"time"

	"github.com/numerek/numerek/store"
)

// Tokens is a token store as the suite uses it.
type Tokens interface {
	Create(t store.Token) (string, store.Token, error)
	Lookup(secret string) (store.Token, bool, error)
	Index() (map[string]store.Token, error)
	List() ([]store.Token, error)
	Revoke(id string) (bool, error)
	Stamp() string
}

// Clerks is a clerk store as the suite uses it.
type Clerks interface {
	Put(name, password, role string, offices []string) (store.Clerk, error)
	Get(name string) (store.Clerk, bool, error)
	Check(name, password string) (store.Clerk, error)
	List() ([]store.Clerk, error)
	Delete(name string) (bool, error)
}

// Devices is a device store as the suite uses it.
type Devices interface {
	PutDevice(d store.DeviceRecord) error
	Device(id string) (store.DeviceRecord, bool, error)
	Devices() ([]store.DeviceRecord, error)
	UpdateDevice(id string, fn func(*store.DeviceRecord) error) (store.DeviceRecord, error)
	CreateBatch(b store.EnrolmentBatch) (string, store.EnrolmentBatch, error)
	Batches() ([]store.EnrolmentBatch, error)
	UseBatch(secret string, now time.Time) (store.EnrolmentBatch, bool, error)
	EndBatch(id string) (bool, error)
}

// Raw is everything a store has written, as bytes (a file's content, a
// table's rows as text), to show what it keeps of a secret.
type Raw func() ([]byte, error)
