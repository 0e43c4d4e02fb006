#!/bin/sh
# Restore a backup made by scripts/backup.sh (docs/deploy.md, "Restore"): check the SHA-256 sums, load the
# dump into DATABASE_URL in one transaction (existing objects are replaced), unpack the files into
# INSTANCE_DIR. Stop the app and the worker first; run `vendorcheck audit verify` afterwards.
# Usage: scripts/restore.sh DATABASE_URL INSTANCE_DIR BACKUP_DIR NAME
set -eu
[ $# -eq 4 ] || { echo "usage: $0 DATABASE_URL INSTANCE_DIR BACKUP_DIR NAME" >&2; exit 2; }
db=$(printf '%s' "$1" | sed 's|^postgresql+psycopg://|postgresql://|')
instance="$2"
src="$3"
name="$4"
(cd "$src" && sha256sum --quiet -c "$name.sha256")
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname "$db" "$src/$name.dump"
umask 077
mkdir -p "$instance"
tar -C "$instance" -xzf "$src/$name.files.tar.gz"
echo "restored $name"
