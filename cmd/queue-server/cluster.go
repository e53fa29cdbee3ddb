package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/cluster"
	"github.com/numerek/numerek/store/pgstore"
)

// clusterFlags choose PostgreSQL for the offices' logs and this node's
// place among the queue servers sharing it (docs/cluster.md).
type clusterFlags struct {
	store, node, nodeURL, secretFile string
}

// nodeStores are what a node on PostgreSQL holds: the pool, the LISTEN
// connection that wakes its replicas, and its offices' leases.
type nodeStores struct {
	db      *pgstore.DB
	node    pgstore.Node
	secret  []byte
	changes *pgstore.Changes
	stop    context.CancelFunc
	offices []*pgstore.Office
	logger  *slog.Logger
}

// open connects to the database when --store names one; nil without it
// (bbolt in --data).
func (f clusterFlags) open(ctx context.Context, listen string, logger *slog.Logger) (*nodeStores, error) {
	if f.store == "" {
		if f.node != "" || f.nodeURL != "" || f.secretFile != "" {
			return nil, fmt.Errorf("--node, --node-url and --cluster-secret-file are for nodes sharing a PostgreSQL database: give --store postgres://… too")
		}
		return nil, nil
	}
	if !pgstore.IsURL(f.store) {
		return nil, fmt.Errorf("--store %q: give the database's URL, postgres://USER:PASSWORD@HOST/DATABASE (bbolt files are --data)", f.store)
	}
	secret, err := readClusterSecret(f.secretFile)
	if err != nil {
		return nil, err
	}
	name := f.node
	if name == "" {
		if name, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("naming this node (give --node): %w", err)
		}
	}
	url := f.nodeURL
	if url == "" {
		_, port, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("--listen %q: %w", listen, err)
		}
		url = "http://" + net.JoinHostPort("127.0.0.1", port)
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("--node-url %q: give the address other nodes reach this one at, http://HOST:PORT", url)
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := pgstore.Open(openCtx, f.store)
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	// The node's id is its name and a part of its own: a node started
	// again never takes its former self's lease for its own.
	node := pgstore.Node{ID: name + "-" + rand.Text()[:6], URL: url}
	listenCtx, stop := context.WithCancel(context.Background())
	n := &nodeStores{db: db, node: node, secret: secret, changes: db.Listen(listenCtx, logger), stop: stop, logger: logger}
	logger.Info("offices kept in PostgreSQL", "node", node.ID, "node_url", node.URL, "forwarding", len(secret) > 0)
	return n, nil
}

// office is an office's log in the database and the actor's way of
// sharing it with the other nodes.
func (n *nodeStores) office(id string) (*pgstore.Office, actor.Cluster) {
	po := n.db.Office(id, n.node, pgstore.OfficeOptions{})
	n.offices = append(n.offices, po)
	fwd := &cluster.Forwarder{Office: id, Owner: po.OwnerURL, Self: n.node.URL, Secret: n.secret}
	return po, cluster.Office(po, n.changes.Office(id), fwd)
}

// release gives up the offices this node leads, so another leads at once.
func (n *nodeStores) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, o := range n.offices {
		if err := o.Release(ctx); err != nil {
			n.logger.Warn("giving up an office's lease", "err", err)
		}
	}
}

func (n *nodeStores) close() {
	if n == nil {
		return
	}
	n.stop()
	n.db.Close()
}

// readClusterSecret reads the nodes' shared secret; none without a file.
func readClusterSecret(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--cluster-secret-file: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if len(secret) < 32 {
		return nil, fmt.Errorf("--cluster-secret-file %s: the secret is %d characters, give at least 32 (e.g. openssl rand -hex 32 > %s)", path, len(secret), path)
	}
	return []byte(secret), nil
}
