#!/usr/bin/env bash
# Backs up every Platform database (pg_dump, custom format) and Redis (an RDB snapshot) into <folder>/<UTC time>/ with
# a checksum list, then keeps the newest KEEP complete backups (14 by default). A backup is written under a hidden
# name and renamed when complete, so a crash mid-way never leaves something that looks like a backup.
#
# PostgreSQL is reached through the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD); Redis through REDIS_HOST,
# REDIS_PORT and REDIS_PASSWORD (skipped when REDIS_HOST is unset). Needs psql, pg_dump and redis-cli.
set -euo pipefail
root=${1:?usage: backup.sh <folder>}
keep=${KEEP:-14}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="$root/.$stamp.partial"
# Backups hold every tenant's data: only the user running this may read them (folders 0700, files 0600).
umask 077
mkdir -p "$partial"
chmod 700 "$root"

databases=$(psql --no-psqlrc --tuples-only --no-align --dbname=postgres \
  --command="SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY 1")
for database in $databases; do
  pg_dump --format=custom --file="$partial/$database.dump" --dbname="$database"
done

if [ -n "${REDIS_HOST:-}" ]; then
  REDISCLI_AUTH="${REDIS_PASSWORD:-}" redis-cli -h "$REDIS_HOST" -p "${REDIS_PORT:-6379}" --rdb "$partial/redis.rdb" >/dev/null
fi

(cd "$partial" && sha256sum -- * > SHA256SUMS)
mv "$partial" "$root/$stamp"

# Retention: only complete backups count, newest first.
find "$root" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9]{8}T[0-9]{6}Z' -printf '%f\n' \
  | sort | head -n -"$keep" | while read -r old; do rm -rf -- "${root:?}/$old"; done
echo "$root/$stamp"
