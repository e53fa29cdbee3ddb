// Package cluster carries an office's commands between the queue-server
// nodes that share it: a node that does not write the office's log
// forwards each command over HTTP to the one that does (Forwarder), which
// serves them on an internal route (Handler); Office puts the lease, the
// log's change signal and the Forwarder together as an actor.Cluster.
package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// commandPath is where a node serves forwarded commands of an office.
const commandPath = "/internal/v1/offices/{office}/commands"

// forwardedCommand is the request body of the internal route.
type forwardedCommand struct {
	Actor   string          `json:"actor"`
	Command json.RawMessage `json:"command"`
}

// answer is its response body.
type answer struct {
	Result wireResult `json:"result"`
}

// wireResult is an actor.Result on the wire: a refusal by the office as
// the *queue.Error it is, anything else that failed as its message.
type wireResult struct {
	Decision queue.Decision    `json:"decision"`
	Ticket   *queue.TicketView `json:"ticket,omitempty"`
	Seq      uint64            `json:"seq"`
	Error    *queue.Error      `json:"error,omitempty"`
	Failure  string            `json:"failure,omitempty"`
}

// problem is the body of an answer that is not a result.
type problem struct {
	Error string `json:"error"`
}

// Lease is this node's claim on writing an office's log (pgstore's Office).
type Lease interface {
	Lead(ctx context.Context) (context.Context, error)
}

// Office adapts an office's lease, the signal that its log changed and a
// Forwarder to its writer into an actor.Cluster.
func Office(lease Lease, changed <-chan struct{}, fwd *Forwarder) actor.Cluster {
	return office{lease: lease, changed: changed, fwd: fwd}
}

type office struct {
	lease   Lease
	changed <-chan struct{}
	fwd     *Forwarder
}

func (o office) Lead(ctx context.Context) (context.Context, error) {
	lease, err := o.lease.Lead(ctx)
	if err != nil {
		return nil, fmt.Errorf("taking the office's lease: %w", err)
	}
	return lease, nil
}

func (o office) Changed() <-chan struct{} { return o.changed }

func (o office) Forward(ctx context.Context, actorName string, cmd queue.Command) actor.Result {
	return o.fwd.Forward(ctx, actorName, cmd)
}
