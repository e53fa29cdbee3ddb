// Package server is the queue server's HTTP side: the JSON API v1 that
// devices and staff use, the event stream, authentication by bearer token
// and what each role may do. Every route but /healthz needs a token; a
// wrong token is 401, a role that may not do a thing is 403, and neither
// changes any state.
package server
