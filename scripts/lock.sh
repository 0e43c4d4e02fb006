#!/bin/sh
# Regenerate the pinned, hashed lock files from setup.cfg's ranges (see docs/decisions/0004-lock-files.md).
# Usage: scripts/lock.sh UV [--upgrade]   (UV is the path of the uv binary)
# runtime.txt: what a production install needs (the app + PostgreSQL driver + build tools).
# dev.txt: runtime plus the test and lint tools, constrained to the very same versions as runtime.txt.
set -eu
uv="$1"; shift
common="--generate-hashes --universal --python-version 3.11 --quiet"
# shellcheck disable=SC2086
"$uv" pip compile $common "$@" --extra postgres setup.cfg requirements/build.in \
  --custom-compile-command "make lock" -o requirements/runtime.txt
# shellcheck disable=SC2086
"$uv" pip compile $common "$@" --extra dev --extra postgres setup.cfg requirements/build.in \
  -c requirements/runtime.txt --custom-compile-command "make lock" -o requirements/dev.txt
