-- Who may do what, shared by every node (docs/cluster.md): bearer tokens,
-- clerk accounts, paired devices and enrolment batches, as the bbolt
-- files tokens.db, clerks.db and devices.db keep them on one machine.
-- Secrets are kept only as the bbolt files keep them: a token's and an
-- enrolment batch's secret as its SHA-256 in hex, a password as its
-- bcrypt hash. Names and offices sort byte-wise (COLLATE "C" in the
-- queries), as Go sorts them, whatever the database's locale.

-- +goose Up
CREATE TABLE tokens (
    -- The SHA-256 of the secret, hex: what a request's bearer token is
    -- looked up by.
    hash text PRIMARY KEY,
    id text NOT NULL UNIQUE,
    office text NOT NULL,
    role text NOT NULL,
    counter integer NOT NULL DEFAULT 0,
    label text NOT NULL DEFAULT '',
    created timestamptz NOT NULL,
    -- A paired device's Ed25519 public key; '' for tokens made by hand.
    key text NOT NULL DEFAULT ''
);

CREATE TABLE clerks (
    name text PRIMARY KEY,
    role text NOT NULL,
    offices text[] NOT NULL,
    hash bytea NOT NULL,
    created timestamptz NOT NULL
);

CREATE TABLE devices (
    -- Its token's id.
    id text PRIMARY KEY,
    name text NOT NULL,
    office text NOT NULL,
    role text NOT NULL,
    counter integer NOT NULL DEFAULT 0,
    key text NOT NULL DEFAULT '',
    fingerprint text NOT NULL DEFAULT '',
    hardware jsonb NOT NULL DEFAULT '{}',
    version text NOT NULL DEFAULT '',
    settings_revision integer NOT NULL DEFAULT 0,
    settings_toml text NOT NULL DEFAULT '',
    paired timestamptz NOT NULL,
    paired_by text NOT NULL DEFAULT '',
    -- NULL while the device works.
    revoked timestamptz
);

CREATE TABLE enrolment_batches (
    id text PRIMARY KEY,
    secret_hash text NOT NULL UNIQUE,
    office text NOT NULL,
    role text NOT NULL,
    name_prefix text NOT NULL DEFAULT '',
    uses_left integer NOT NULL,
    expires timestamptz NOT NULL,
    created_by text NOT NULL DEFAULT '',
    created timestamptz NOT NULL
);

-- +goose Down
DROP TABLE enrolment_batches;
DROP TABLE devices;
DROP TABLE clerks;
DROP TABLE tokens;
