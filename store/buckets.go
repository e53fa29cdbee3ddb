package store

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// getJSON reads the JSON record at key of bucket into a T; found=false
// when there is none.
func getJSON[T any](db *bolt.DB, bucket, key []byte) (v T, found bool, err error) {
	err = db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucket).Get(key)
		if data == nil {
			return nil
		}
		found = true
		return json.Unmarshal(data, &v)
	})
	return v, found, err
}

// deleteWhere deletes the records of b that drop picks, and says how many
// went. The keys are gathered first: bbolt's cursor must not see its
// bucket change under it.
func deleteWhere(b *bolt.Bucket, drop func(k, v []byte) bool) (int, error) {
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if drop(k, v) {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}

// listAfter decodes the records of b whose sequence key comes after
// after, in key order, up to limit of them (limit <= 0: all).
func listAfter[T any](b *bolt.Bucket, after uint64, limit int, decode func(k, v []byte) (T, error)) ([]T, error) {
	var out []T
	c := b.Cursor()
	for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
		e, err := decode(k, v)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, nil
}
