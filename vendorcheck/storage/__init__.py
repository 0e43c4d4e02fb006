"""Every stored file goes through one Store, chosen by STORAGE_BACKEND and created once per app.

Callers name an area and a key (`current_store().open(Area.EVIDENCE, key)`); no filesystem path of a
stored file leaves this package. See docs/architecture.md, "Stored files".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app

from vendorcheck.storage.base import (
    CHUNK,
    Area,
    FileMissing,
    InvalidKey,
    Store,
    StoredFile,
    StoreUnavailable,
    check_key,
)
from vendorcheck.storage.local import FOLDERS, LocalStore

EXTENSION = "vendorcheck_storage"


def local_store(app: Flask) -> LocalStore:
    """Return the disk store of an app: the instance folder, evidence in EVIDENCE_DIR when set."""
    def folder_of(area: Area) -> Path:
        # Read at each call: the instance folder and EVIDENCE_DIR may be changed after create_app.
        if area is Area.EVIDENCE and app.config.get("EVIDENCE_DIR"):
            return Path(app.config["EVIDENCE_DIR"])
        return Path(app.instance_path) / FOLDERS[area]

    return LocalStore(folder_of)


BACKENDS: dict[str, Callable[[Flask], Store]] = {"local": local_store}


def init_app(app: Flask) -> None:
    """Create the app's store from STORAGE_BACKEND; an unknown backend stops the app at boot."""
    name = str(app.config.get("STORAGE_BACKEND") or "local")
    if name not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise RuntimeError(f"STORAGE_BACKEND '{name}' is not a storage backend (known: {known}).")
    app.extensions[EXTENSION] = BACKENDS[name](app)


def current_store() -> Store:
    """Return the store of the current app."""
    store: Store = current_app.extensions[EXTENSION]
    return store


__all__ = ["BACKENDS", "CHUNK", "Area", "FileMissing", "InvalidKey", "LocalStore", "Store", "StoredFile",
           "StoreUnavailable", "check_key", "current_store", "init_app", "local_store"]
