package bundles

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/numerek/numerek/store"
)

// DefaultMaxSize is the largest bundle taken by default: a Numerek root
// file system compressed is a few hundred MB.
const DefaultMaxSize = 2 << 30

// ErrTooBig is the error of an upload larger than the limit; nothing of
// it is kept.
var ErrTooBig = errors.New("the bundle is larger than the limit")

// Store keeps the bundles' files in a folder and their records in
// fleet.db.
type Store struct {
	dir     string
	db      *store.FleetDB
	shared  Shared
	clock   func() time.Time
	maxSize int64

	mu      sync.Mutex
	records map[string]store.BundleRecord
}

// Options are a Store's parts.
type Options struct {
	// Dir is the folder of the files (made if missing).
	Dir string
	// DB keeps the records; nil keeps them in memory only (tests).
	DB    *store.FleetDB
	Clock func() time.Time
	// MaxSize is the largest bundle taken (default DefaultMaxSize).
	MaxSize int64
	// Shared keeps a copy of each bundle where every node reaches it
	// (the nodes' PostgreSQL); nil: the folder only.
	Shared Shared
}

// Shared is where the nodes sharing a database keep the bundles' bytes,
// so the node that runs the fleet after another still has them
// (pgstore.DB).
type Shared interface {
	PutFile(ctx context.Context, name string, r io.Reader) error
	WriteFile(ctx context.Context, name string, w io.Writer) error
}

// Open opens the store, reading the records kept.
func Open(opts Options) (*Store, error) {
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("making the bundles' folder: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s := &Store{dir: opts.Dir, db: opts.DB, shared: opts.Shared, clock: opts.Clock, maxSize: cmp.Or(opts.MaxSize, DefaultMaxSize), records: map[string]store.BundleRecord{}}
	// Uploads cut off by a crash or a restart are not bundles.
	parts, _ := filepath.Glob(filepath.Join(opts.Dir, "upload-*.part"))
	for _, p := range parts {
		_ = os.Remove(p)
	}
	// The shared copies are fetched only by the node that runs the fleet
	// (Reload), not by every node as it starts.
	if err := s.readRecords(); err != nil {
		return nil, err
	}
	return s, nil
}

// readRecords reads the records kept.
func (s *Store) readRecords() error {
	records := map[string]store.BundleRecord{}
	if s.db != nil {
		recs, err := s.db.Bundles()
		if err != nil {
			return err
		}
		for _, r := range recs {
			records[r.SHA256] = r
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = records
	return nil
}

// Reload reads the records again, and fetches the shared copy of each
// bundle not in the folder: a node taking the fleet over from another
// (docs/cluster.md) serves the bundles that one took.
func (s *Store) Reload(ctx context.Context) error {
	if err := s.readRecords(); err != nil {
		return err
	}
	if s.shared == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for h := range s.records {
		if _, err := os.Stat(s.Path(h)); err == nil {
			continue
		}
		if err := s.fetch(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// fetch copies the shared bundle h into the folder, checking its hash.
func (s *Store) fetch(ctx context.Context, h string) error {
	tmp, err := os.CreateTemp(s.dir, "upload-*.part")
	if err != nil {
		return fmt.Errorf("fetching bundle %s: %w", h, err)
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	err = s.shared.WriteFile(ctx, h+".raucb", io.MultiWriter(tmp, sum))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetching bundle %s: %w", h, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != h {
		return fmt.Errorf("fetching bundle %s: its shared copy hashes to %s", h, got)
	}
	if err := os.Rename(tmp.Name(), s.Path(h)); err != nil {
		return fmt.Errorf("keeping bundle %s: %w", h, err)
	}
	return nil
}

// MaxSize is the largest bundle the store takes.
func (s *Store) MaxSize() int64 { return s.maxSize }

var hashName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidHash reports whether h is a SHA-256 in lower-case hex, the only
// names the store's files have.
func ValidHash(h string) bool { return hashName.MatchString(h) }

// Path is where the bundle with hash h lies.
func (s *Store) Path(h string) string { return filepath.Join(s.dir, h+".raucb") }

// Save streams r to disk (never whole in memory), hashing it on the way,
// and keeps it if it is a RAUC bundle no larger than MaxSize: the error
// wraps ErrTooBig or ErrNotBundle and says what is wrong. A bundle
// already kept is answered with its first record.
func (s *Store) Save(r io.Reader, by string) (store.BundleRecord, error) {
	tmp, err := os.CreateTemp(s.dir, "upload-*.part")
	if err != nil {
		return store.BundleRecord{}, fmt.Errorf("storing the upload: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, s.maxSize+1))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return store.BundleRecord{}, fmt.Errorf("receiving the bundle: %w", err)
	}
	if n > s.maxSize {
		return store.BundleRecord{}, fmt.Errorf("%w (%d MB)", ErrTooBig, s.maxSize>>20)
	}
	m, err := ReadManifest(tmp.Name())
	if err != nil {
		if !errors.Is(err, ErrNotBundle) {
			err = fmt.Errorf("%w: %v", ErrNotBundle, err)
		}
		return store.BundleRecord{}, err
	}
	rec := store.BundleRecord{SHA256: hex.EncodeToString(h.Sum(nil)), Version: m.Version, Compatible: m.Compatible, Size: n, By: by, At: s.clock()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.records[rec.SHA256]; ok {
		if _, err := os.Stat(s.Path(rec.SHA256)); err == nil {
			return old, nil
		}
	}
	if err := os.Rename(tmp.Name(), s.Path(rec.SHA256)); err != nil {
		return store.BundleRecord{}, fmt.Errorf("keeping the bundle: %w", err)
	}
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync() // the rename lasts a power cut
		d.Close()
	}
	if s.shared != nil {
		// Shared before it is recorded: a record always has its bytes.
		f, err := os.Open(s.Path(rec.SHA256))
		if err != nil {
			return store.BundleRecord{}, fmt.Errorf("sharing the bundle: %w", err)
		}
		err = s.shared.PutFile(context.Background(), rec.SHA256+".raucb", f)
		f.Close()
		if err != nil {
			return store.BundleRecord{}, err
		}
	}
	if s.db != nil {
		if err := s.db.PutBundle(rec); err != nil {
			return store.BundleRecord{}, err
		}
	}
	s.records[rec.SHA256] = rec
	return rec, nil
}

// List lists the bundles, newest first.
func (s *Store) List() []store.BundleRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.BundleRecord, 0, len(s.records))
	for _, r := range s.records {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b store.BundleRecord) int { return cmp.Or(b.At.Compare(a.At), cmp.Compare(a.SHA256, b.SHA256)) })
	return out
}

// Get finds a bundle by its hash.
func (s *Store) Get(h string) (store.BundleRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[h]
	return r, ok
}
