package store

import (
	"encoding/json"

	"github.com/numerek/numerek/store/kv"
)

// getJSON reads the JSON record at key of bucket into a T; found=false
// when there is none.
func getJSON[T any](db kv.DB, bucket, key []byte) (v T, found bool, err error) {
	err = db.View(func(tx kv.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		data := b.Get(key)
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
func deleteWhere(b recordSet, drop func(k, v []byte) bool) (int, error) {
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

// recordSet is a bucket of a bbolt file or of the side data (kv.Bucket).
type recordSet interface {
	ForEach(fn func(k, v []byte) error) error
	Delete(key []byte) error
}

// listAfter decodes the records of b whose sequence key comes after
// after, in key order, up to limit of them (limit <= 0: all).
func listAfter[T any](c kv.Cursor, after uint64, limit int, decode func(k, v []byte) (T, error)) ([]T, error) {
	var out []T
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
