// Package kv is the small ordered key-value store the server's side data
// is written against: the web pages' bookings and sessions, the message
// outbox. Its shape is bbolt's (buckets of ordered keys, one writer at a
// time, a read transaction sees one state), so the same code runs on a
// bbolt file (Bolt) for one server and on PostgreSQL (store/pgstore) for
// several nodes sharing it.
package kv

import (
	bolt "go.etcd.io/bbolt"
)

// DB runs transactions. Update transactions are serialised: while fn
// runs no other Update of the same DB (on any node) writes, so a record
// read and written in one Update is a compare-and-set.
type DB interface {
	View(fn func(Tx) error) error
	Update(fn func(Tx) error) error
}

// Tx is a transaction. A read error of a backend that can have one
// (PostgreSQL) makes the whole transaction fail with it, whatever fn
// returned, and an Update's writes are then rolled back.
type Tx interface {
	// Bucket is the bucket called name, or nil when there is none.
	Bucket(name []byte) Bucket
	// CreateBucketIfNotExists is the bucket called name, made if need be
	// (in an Update).
	CreateBucketIfNotExists(name []byte) (Bucket, error)
}

// Bucket is an ordered set of keys and values. Slices it returns are the
// caller's only until the transaction ends.
type Bucket interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	// ForEach calls fn for each key in order; fn must not change the
	// bucket.
	ForEach(fn func(k, v []byte) error) error
	Cursor() Cursor
	// NextSequence is the bucket's next number (1 first), kept with it.
	NextSequence() (uint64, error)
}

// Cursor walks a bucket in key order; a nil key means past the end.
type Cursor interface {
	First() (key, value []byte)
	Last() (key, value []byte)
	Seek(seek []byte) (key, value []byte)
	Next() (key, value []byte)
	Prev() (key, value []byte)
}

// Bolt is db as a DB.
func Bolt(db *bolt.DB) DB { return boltDB{db} }

type boltDB struct{ db *bolt.DB }

func (b boltDB) View(fn func(Tx) error) error {
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b boltDB) Update(fn func(Tx) error) error {
	return b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

type boltTx struct{ tx *bolt.Tx }

func (t boltTx) Bucket(name []byte) Bucket {
	b := t.tx.Bucket(name)
	if b == nil {
		// A nil *bolt.Bucket in the interface would not compare equal
		// to nil.
		return nil
	}
	return boltBucket{b}
}

func (t boltTx) CreateBucketIfNotExists(name []byte) (Bucket, error) {
	b, err := t.tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return boltBucket{b}, nil
}

type boltBucket struct{ *bolt.Bucket }

func (b boltBucket) Cursor() Cursor { return b.Bucket.Cursor() }

// SetSequence sets the bucket's sequence (Sequencer).
func (b boltBucket) SetSequence(n uint64) error { return b.Bucket.SetSequence(n) }
