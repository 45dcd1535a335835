#!/usr/bin/env bash
# Start the local PostgreSQL server and make sure the test role and database exist.
# Tests reach it at postgres://valueclock:valueclock@127.0.0.1:5432/valueclock.
set -euo pipefail
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -z "$version" ]; then
    echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
fi
pg_ctlcluster "$version" main status >/dev/null 2>&1 || pg_ctlcluster "$version" main start
for _ in $(seq 1 30); do
    su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
    sleep 1
done
psql_do() { su postgres -c "psql -qtAc \"$1\""; }
[ "$(psql_do "SELECT 1 FROM pg_roles WHERE rolname='valueclock'")" = 1 ] ||
    psql_do "CREATE ROLE valueclock LOGIN SUPERUSER PASSWORD 'valueclock'" >/dev/null
[ "$(psql_do "SELECT 1 FROM pg_database WHERE datname='valueclock'")" = 1 ] ||
    su postgres -c "createdb -O valueclock valueclock"
