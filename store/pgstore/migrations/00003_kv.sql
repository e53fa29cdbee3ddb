-- The server's side data, shared by every node (docs/cluster.md): the web
-- pages' bookings, sessions and locker deposits ("web"), the message
-- outbox ("outbox") and the secret keys that sign e-ticket addresses and
-- send Web Push. On one machine they are the bbolt files web.db and
-- outbox.db and the key files in --data; here each file is a space of
-- buckets of ordered keys (package store/kv), so the same code runs on
-- both. Keys compare byte-wise, as bbolt's do.

-- +goose Up
CREATE TABLE kv (
    space text NOT NULL,
    bucket bytea NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (space, bucket, key)
);

-- A bucket's NextSequence, as bbolt keeps one in each bucket.
CREATE TABLE kv_sequences (
    space text NOT NULL,
    bucket bytea NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (space, bucket)
);

-- The secret keys every node must share: a booking code or an e-ticket
-- address made on one node is checked on another, and a push
-- subscription made through one is sent to by another.
CREATE TABLE secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
);

-- Files every node must be able to serve: the update bundles devices
-- download from whichever node runs the fleet. A file is kept as chunks
-- of a MiB, so neither side ever holds a whole bundle in memory.
CREATE TABLE file_chunks (
    name text NOT NULL,
    n integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (name, n)
);

-- +goose Down
DROP TABLE file_chunks;
DROP TABLE secrets;
DROP TABLE kv_sequences;
DROP TABLE kv;
