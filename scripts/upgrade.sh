#!/bin/sh
# `make upgrade`: move the lock to the newest releases setup.cfg's ranges allow, install them,
# run the whole suite, and print what changed. The old lock is kept so a red run is one command to undo.
# Usage: scripts/upgrade.sh BIN   (the virtualenv's bin directory, holding uv and python)
set -u
bin="$1"
backup=$(mktemp -d)
cp requirements/runtime.txt requirements/dev.txt "$backup/"
sh scripts/lock.sh "$bin/uv" --upgrade || { echo "upgrade: resolving failed; the lock is unchanged"; \
  cp "$backup"/*.txt requirements/; exit 1; }
echo "Changed in requirements/dev.txt (old -> new):"
"$bin/python" scripts/lock_diff.py "$backup/dev.txt" requirements/dev.txt
make --no-print-directory test
rc=$?
if [ $rc -ne 0 ]; then
  echo "upgrade: the suite FAILED on the upgraded set (above). The new lock is left in place to investigate;"
  echo "         to go back: cp $backup/*.txt requirements/ && make install"
  exit $rc
fi
echo "upgrade: the whole suite passed on the upgraded set; review and commit requirements/*.txt."
