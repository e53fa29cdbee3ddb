// Package pgstore keeps the queue server's state in PostgreSQL, for servers
// that outgrow one machine (docs/cluster.md): each office's events in an
// append-only table with a unique (office, seq), snapshots beside them,
// and the lease that makes one node at a time the office's writer. The
// schema is versioned SQL migrations (goose), run by
// `queue-server migrate`. bbolt (package store) stays the embedded default.
package pgstore
