#!/usr/bin/env bash
# Restores a backup made by backup.sh into the PostgreSQL server the libpq variables name (PGHOST, PGPORT, PGUSER,
# PGPASSWORD): checks the checksums first, creates missing databases, and replaces each database's contents in one
# transaction. Redis is restored by starting a Redis server on the backup's redis.rdb (see
# docs/operations/backups.md): its contents are not replayed into a running server.
set -euo pipefail
backup=${1:?usage: restore.sh <backup folder>}
(cd "$backup" && sha256sum --check --quiet SHA256SUMS)

for dump in "$backup"/*.dump; do
  database=$(basename "$dump" .dump)
  exists=$(psql --no-psqlrc --tuples-only --no-align --dbname=postgres \
    --command="SELECT 1 FROM pg_database WHERE datname = '$database'")
  [ "$exists" = 1 ] || createdb "$database"
  pg_restore --clean --if-exists --no-owner --single-transaction --dbname="$database" "$dump"
done
echo "restored $backup"
