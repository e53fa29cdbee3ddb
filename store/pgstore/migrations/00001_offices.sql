-- Each office's event log, its snapshots and the lease that makes one
-- node at a time its writer (docs/cluster.md).

-- +goose Up
CREATE TABLE office_events (
    office text NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    -- at, actor and kind repeat what event holds, for SQL's readers
    -- (statistics, an operator's query); the node reads event alone.
    at timestamptz NOT NULL,
    actor text NOT NULL DEFAULT '',
    kind text NOT NULL,
    -- queue.Event's JSON, exactly as bbolt's log stores it: json, not
    -- jsonb, keeps the text as written (nanoseconds of at, a \u0000 in
    -- a name) so every node folds the very same event.
    event json NOT NULL,
    -- Two writers can never both append seq N: the second's insert fails.
    PRIMARY KEY (office, seq)
);

CREATE TABLE office_snapshots (
    office text NOT NULL,
    seq bigint NOT NULL,
    -- queue.State's JSON, as bbolt's log stores it.
    state bytea NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office, seq)
);

CREATE TABLE office_leases (
    office text PRIMARY KEY,
    -- The holding process (pgstore.Node.ID: a name and a random part).
    node text NOT NULL,
    -- Where the other nodes forward the office's commands.
    node_url text NOT NULL,
    -- Raised each time the lease is taken; an append carries the epoch
    -- its writer won and is refused under any other. The row is never
    -- deleted, so an epoch is never given twice.
    epoch bigint NOT NULL,
    -- By the database's clock only: no two nodes' clocks are compared.
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE office_leases;
DROP TABLE office_snapshots;
DROP TABLE office_events;
