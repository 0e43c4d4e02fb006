"""The local-disk backend: one folder per area, random names, atomic writes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from vendorcheck.storage.base import (
    CHUNK,
    Area,
    FileMissing,
    Store,
    StoredFile,
    StoreUnavailable,
    area_of,
    check_key,
)

# The folders and file names installations have always had, so their files stay where they are.
FOLDERS = {Area.EVIDENCE: "evidence", Area.REPORTS: "reports", Area.PACKS: "packs", Area.DPA: "dpa",
           Area.CERTIFICATES: "dpa_certificates", Area.AUDIT: "audit_checkpoints",
           Area.DRAFTS: "draft_reports"}
SUFFIXES = {Area.EVIDENCE: "", Area.REPORTS: ".pdf", Area.PACKS: ".pdf", Area.DPA: ".pdf",
            Area.CERTIFICATES: ".pdf", Area.AUDIT: ".json", Area.DRAFTS: ".pdf"}
TEMP_PREFIX = ".upload-"  # dot files: never a key, ignored by listings of stored files


class LocalStore(Store):
    """Files on a local disk, each area in its own folder (mode 0700, files 0600)."""

    def __init__(self, folder_of: Callable[[Area], Path]) -> None:
        # A function rather than fixed paths: the folders follow the app's settings when they change.
        self._folder_of = folder_of

    @classmethod
    def under(cls, root: Path) -> LocalStore:
        """Return a store keeping every area in its usual folder under `root`."""
        return cls(lambda area: Path(root) / FOLDERS[area])

    def put(self, area: Area | str, key: str, stream: BinaryIO) -> StoredFile:
        """Copy a stream to a temp file, fsync it, then rename it to the key (atomic)."""
        target = self._path(area, key)
        folder = self._folder(area_of(area))
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredFile(key, digest.hexdigest(), size)

    def open(self, area: Area | str, key: str) -> BinaryIO:
        try:
            return self._path(area, key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise FileMissing(key) from None

    def delete(self, area: Area | str, key: str) -> None:
        self._path(area, key).unlink(missing_ok=True)

    def exists(self, area: Area | str, key: str) -> bool:
        return self._path(area, key).is_file()

    def size(self, area: Area | str, key: str) -> int:
        path = self._path(area, key)
        if not path.is_file():
            raise FileMissing(key)
        return path.stat().st_size

    def url(self, area: Area | str, key: str, *, filename: str | None = None,
            content_type: str | None = None) -> str | None:
        """Return None: local files are sent by the app, with its own headers."""
        check_key(area, key)
        return None

    def ping(self) -> None:
        """Raise StoreUnavailable unless every area's folder exists (or can be made) and takes a file."""
        for area in Area:
            try:
                folder = self._folder(area)
                # What save does: a temp file in the folder. Its name starts with a dot, like save's.
                with tempfile.TemporaryFile(dir=folder, prefix=TEMP_PREFIX):
                    pass
            except OSError as exc:
                raise StoreUnavailable(f"the {area.value} folder cannot be written: "
                                       f"{exc.strerror or exc}") from None

    def _folder(self, area: Area) -> Path:
        """Return an area's folder, creating it (private to the server's user) when needed."""
        folder = self._folder_of(area)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def _path(self, area: Area | str, key: str) -> Path:
        """Return the file of a key; InvalidKey for anything `save` did not hand out."""
        area = area_of(area)
        return self._folder(area) / f"{check_key(area, key)}{SUFFIXES[area]}"
