"""Every stored file goes through one Store, chosen by STORAGE_BACKEND and created once per app.

Callers name an area and a key (`current_store().open(Area.EVIDENCE, key)`); no filesystem path of a
stored file leaves this package. See docs/architecture.md, "Stored files".
"""

from __future__ import annotations

import functools
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
    attachment_disposition,
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


def s3_store(app: Flask) -> Store:
    """Return the S3 store of an app from its STORAGE_S3_* settings; a bad setting stops the app at boot."""
    from vendorcheck.storage.s3 import ADDRESSING_STYLES, S3Store, make_client  # boto3 loads only for S3

    cfg = app.config
    bucket = str(cfg.get("STORAGE_S3_BUCKET") or "")
    if not bucket:
        raise RuntimeError("STORAGE_BACKEND 's3' needs STORAGE_S3_BUCKET (the bucket's name).")
    style = str(cfg.get("STORAGE_S3_ADDRESSING_STYLE") or "auto")
    # Each process makes its own client when it first needs one (see S3Store._client).
    make = functools.partial(make_client, endpoint_url=cfg.get("STORAGE_S3_ENDPOINT_URL") or None,
                             region=cfg.get("STORAGE_S3_REGION") or None, addressing_style=style)
    try:
        if style not in ADDRESSING_STYLES:
            raise ValueError(f"addressing style must be one of {', '.join(ADDRESSING_STYLES)}")
        return S3Store(make, bucket, prefix=str(cfg.get("STORAGE_S3_PREFIX") or ""),
                       sse=cfg.get("STORAGE_S3_SSE") or None,
                       kms_key_id=cfg.get("STORAGE_S3_KMS_KEY_ID") or None,
                       presigned=bool(cfg.get("STORAGE_S3_PRESIGNED")),
                       expires_in=int(cfg.get("STORAGE_S3_PRESIGNED_EXPIRES", 300)))
    except ValueError as error:
        raise RuntimeError(f"STORAGE_S3_* settings: {error}") from None


BACKENDS: dict[str, Callable[[Flask], Store]] = {"local": local_store, "s3": s3_store}


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
           "StoreUnavailable", "attachment_disposition", "check_key", "current_store", "init_app",
           "local_store", "s3_store"]
