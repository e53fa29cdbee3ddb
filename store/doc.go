// Package store keeps Numerek's state on disk in bbolt files.
//
// On the server, each office has its own file holding its event log, in
// seq order, and snapshots of its state so restarts need not fold the whole
// history; the log itself stays for statistics. Events are appended in one
// transaction per batch, and bbolt syncs the file before Append returns:
// whatever Append acknowledged survives a crash or a power cut.
//
// A device (kioskd) has one file of its own (DeviceDB): the office state it
// last followed, the server's clock offset, the last call its hall
// announced, and for a ticket kiosk the journal of the tickets it issued,
// the outbox of those issued offline and its number leases. The journal
// moves each ticket through its phases one synced write at a time, so a
// power cut leaves every ticket in exactly one of them.
//
// Tokens live in a file of their own that the server opens only for a
// moment, so `queue-server token` can add one while the server runs.
package store
