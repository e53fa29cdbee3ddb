// Package sync is the protocol between devices and the queue server: the
// wire types of the API, the hub that fans an office's events out to every
// stream subscriber, and the Server-Sent Events stream itself (ids are
// event seqs; a client resumes with Last-Event-ID; a client too far behind,
// or new, first gets a snapshot of the state).
//
// The name follows the design's folder; importers that also need the
// standard library's sync give this one another name.
package sync
