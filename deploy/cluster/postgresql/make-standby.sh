#!/bin/sh
# make-standby.sh PRIMARY NAME
#
# Makes this machine's PostgreSQL 15 (Debian's cluster 15/main) a streaming
# standby of the primary at host PRIMARY, named NAME (its application_name,
# which the primary's synchronous_standby_names names; and its replication
# slot on the primary, which must exist: README.md, step 3). Run as root on
# the machine to become the standby: a new one, or a former primary after a
# promotion (README.md, "Making the old primary a standby").
#
# The cluster's data is moved aside (to DATA.old-DATE), not deleted: remove
# it once the standby streams. The replication user's password is read
# from ~postgres/.pgpass, which the standby's own stream uses too.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 PRIMARY NAME   (e.g. $0 db1.example db2)" >&2
	exit 2
fi
primary=$1
name=$2
version=15
cluster=main
data=/var/lib/postgresql/$version/$cluster
bin=/usr/lib/postgresql/$version/bin

if ! runuser -u postgres -- test -f ~postgres/.pgpass; then
	echo "~postgres/.pgpass is missing: add the line *:*:replication:replicator:PASSWORD (mode 0600, owner postgres)" >&2
	exit 1
fi

systemctl stop "postgresql@$version-$cluster"
if [ -d "$data" ]; then
	mv "$data" "$data.old-$(date +%Y%m%d-%H%M%S)"
fi
install -d -o postgres -g postgres -m 0700 "$data"

# -R writes primary_conninfo (with the application_name) into
# postgresql.auto.conf and creates standby.signal; --slot streams through
# the primary's slot NAME, so the primary keeps every WAL segment this
# standby has not received, from the copy on.
runuser -u postgres -- "$bin/pg_basebackup" \
	--dbname "host=$primary user=replicator application_name=$name" \
	--pgdata "$data" --write-recovery-conf --slot "$name" \
	--wal-method stream --checkpoint fast --progress

systemctl start "postgresql@$version-$cluster"
echo "started: check on the primary with"
echo "  runuser -u postgres -- psql -c 'SELECT application_name, state, sync_state FROM pg_stat_replication'"
echo "that $name is streaming, and sync when the primary's synchronous_standby_names names it."
