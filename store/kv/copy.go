package kv

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Sequencer is a bucket whose NextSequence can be set, as a copy of
// another bucket needs.
type Sequencer interface {
	SetSequence(n uint64) error
}

// Copied is what CopyBolt copied.
type Copied struct {
	Buckets, Records int
}

// CopyBolt copies every bucket of the bbolt file src into dst, records
// and sequences, each bucket in one Update. A bucket dst already has
// records in is refused before anything is copied: two copies would mix.
func CopyBolt(src *bolt.DB, dst DB) (Copied, error) {
	var names [][]byte
	err := src.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, bytes.Clone(name))
			return nil
		})
	})
	if err != nil {
		return Copied{}, fmt.Errorf("listing the buckets: %w", err)
	}
	for _, name := range names {
		has := false
		err := dst.View(func(tx Tx) error {
			if b := tx.Bucket(name); b != nil {
				k, _ := b.Cursor().First()
				has = k != nil
			}
			return nil
		})
		if err != nil {
			return Copied{}, err
		}
		if has {
			return Copied{}, fmt.Errorf("bucket %s has records already: nothing was copied", name)
		}
	}
	var c Copied
	for _, name := range names {
		err := src.View(func(stx *bolt.Tx) error {
			sb := stx.Bucket(name)
			return dst.Update(func(tx Tx) error {
				b, err := tx.CreateBucketIfNotExists(name)
				if err != nil {
					return err
				}
				err = sb.ForEach(func(k, v []byte) error {
					if v == nil {
						return fmt.Errorf("bucket %s holds a bucket (%s): not a file of the side data", name, k)
					}
					c.Records++
					return b.Put(k, v)
				})
				if err != nil {
					return err
				}
				if seq := sb.Sequence(); seq > 0 {
					s, ok := b.(Sequencer)
					if !ok {
						return fmt.Errorf("bucket %s: its sequence cannot be set here", name)
					}
					if err := s.SetSequence(seq); err != nil {
						return err
					}
				}
				return nil
			})
		})
		if err != nil {
			return c, fmt.Errorf("copying bucket %s: %w", name, err)
		}
		c.Buckets++
	}
	return c, nil
}
