// Package protocol is the protocol between devices and the queue server:
// the wire types of the API, the stream's rhythm (Heartbeat, StallAfter)
// and cursor, and Client, which calls the API for one office with a
// device token. The stream's framing is package sse; the device's copy of
// an office is package device/replica; the server's side is package
// server with the hub beside the office actor in server/actor.
package protocol
