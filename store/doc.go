// Package store keeps Numerek's state on disk in bbolt files.
//
// On the server, each office has its own file holding its event log, in
// seq order, and snapshots of its state so restarts need not fold the whole
// history; the log itself stays for statistics. Events are appended in one
// transaction per batch, and bbolt syncs the file before Append returns:
// whatever Append acknowledged survives a crash or a power cut.
//
// Tokens live in a file of their own that the server opens only for a
// moment, so `queue-server token` can add one while the server runs.
package store
