-- Each office's event log, its snapshots and the lease that makes one
-- node at a time its writer (docs/cluster.md).

-- +goose Up
CREATE TABLE office_events (
    office text NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    at timestamptz NOT NULL,
    actor text NOT NULL DEFAULT '',
    kind text NOT NULL,
    data jsonb NOT NULL,
    -- Two writers can never both append seq N: the second's insert fails.
    PRIMARY KEY (office, seq)
);

CREATE TABLE office_snapshots (
    office text NOT NULL,
    seq bigint NOT NULL,
    state bytea NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office, seq)
);

CREATE TABLE office_leases (
    office text PRIMARY KEY,
    node text NOT NULL,
    -- Where the other nodes forward the office's commands.
    node_url text NOT NULL,
    -- Raised each time the lease changes hands; an append carries the
    -- epoch its writer holds and is refused under any other.
    epoch bigint NOT NULL,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE office_leases;
DROP TABLE office_snapshots;
DROP TABLE office_events;
