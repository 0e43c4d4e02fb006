#!/bin/sh
# Back up vendorcheck (docs/deploy.md, "Backups"): the PostgreSQL database with pg_dump (custom format),
# then the instance folder (stored files of the local backend, the signing key), with SHA-256 sums.
# The database goes first: files are written before the rows that name them, so every file the dump
# names is in the archive taken after it.
# Usage: scripts/backup.sh DATABASE_URL INSTANCE_DIR BACKUP_DIR     (prints the backup's name)
#   DATABASE_URL  the app's VENDORCHECK_SQLALCHEMY_DATABASE_URI (postgresql://...; +psycopg is dropped)
set -eu
[ $# -eq 3 ] || { echo "usage: $0 DATABASE_URL INSTANCE_DIR BACKUP_DIR" >&2; exit 2; }
db=$(printf '%s' "$1" | sed 's|^postgresql+psycopg://|postgresql://|')
instance="$2"
dest="$3"
[ -d "$instance" ] || { echo "no instance folder at $instance" >&2; exit 1; }
umask 077
mkdir -p "$dest"
name="vendorcheck-$(date -u +%Y%m%dT%H%M%SZ)"
pg_dump --format=custom --no-owner --no-privileges --file "$dest/$name.dump" --dbname "$db"
# tmp/ holds half-built packs; a SQLite database or the development secret never belong to production.
tar -C "$instance" --exclude=./tmp --exclude='./*.sqlite3*' --exclude=./secret_key \
  -czf "$dest/$name.files.tar.gz" .
(cd "$dest" && sha256sum "$name.dump" "$name.files.tar.gz" > "$name.sha256")
echo "$name"
