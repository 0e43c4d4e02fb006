"""Evidence files on disk: random names under the instance folder, written atomically."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app

KEY_RE = re.compile(r"^[0-9a-f]{32}$")
CHUNK = 64 * 1024


def evidence_dir() -> Path:
    """Return the evidence folder (outside static), creating it when needed."""
    folder = Path(current_app.config.get("EVIDENCE_DIR") or Path(current_app.instance_path) / "evidence")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_of(key: str) -> Path:
    """Return the file of a storage key; refuse anything that is not a generated key."""
    if not KEY_RE.match(key):
        raise ValueError("invalid storage key")
    return evidence_dir() / key


def save(stream: BinaryIO) -> tuple[str, str, int]:
    """Copy a stream to a new random key via a temp file and os.replace; return key, sha256, size."""
    folder = evidence_dir()
    key = secrets.token_hex(16)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            stream.seek(0)
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, folder / key)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return key, digest.hexdigest(), size


def delete(key: str) -> None:
    """Remove a stored file (used when the database transaction fails after writing)."""
    path_of(key).unlink(missing_ok=True)


def exists(key: str) -> bool:
    """Tell whether a stored file is present."""
    return path_of(key).is_file()
