// Package sync is the protocol between devices and the queue server: the
// wire types of the API, the hub that fans an office's events out to every
// stream subscriber, and the Server-Sent Events stream itself (ids are
// event seqs; a client resumes with Last-Event-ID; a client too far behind,
// or new, first gets a snapshot of the state).
//
// The device's side: Client calls the API for one office with a device
// token; Follower keeps a device's copy of the office's state by folding
// the stream with queue.Apply, resuming after breaks and keeping the state
// on disk; Clock reads the server's time from what it sends. Package
// synctest runs a real server inside tests.
//
// The name follows the design's folder; importers that also need the
// standard library's sync give this one another name.
package sync
