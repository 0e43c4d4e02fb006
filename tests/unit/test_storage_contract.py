"""What every storage backend must do: each backend adds itself to BACKENDS and passes this file."""

from __future__ import annotations

import hashlib
import io
import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.support import s3
from vendorcheck.storage import CHUNK, Area, FileMissing, InvalidKey, LocalStore, Store
from vendorcheck.storage.base import KEY_HEX_LENGTH
from vendorcheck.storage.s3 import S3Store


class Backend(NamedTuple):
    """A store under test, and a way to list what it really holds in an area (temp files too)."""

    store: Store
    held: Callable[[Area], list[str]]


def local_backend(tmp_path: Path) -> Backend:
    root = tmp_path / "instance"
    store = LocalStore.under(root)

    def held(area: Area) -> list[str]:
        folder = root / {"certificates": "dpa_certificates"}.get(area.value, area.value)
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    return Backend(store, held)


def s3_backend(tmp_path: Path, endpoint: str) -> Backend:
    """A bucket of its own on the test S3 server, under a prefix; `held` lists objects and open uploads."""
    client, bucket = s3.client(endpoint), s3.new_bucket(endpoint)
    store = S3Store(client, bucket, prefix="app/", spool_dir=str(tmp_path))

    def held(area: Area) -> list[str]:
        objects = client.list_objects_v2(Bucket=bucket, Prefix=f"app/{area.value}/").get("Contents", [])
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        spooled = [p.name for p in tmp_path.iterdir()]
        return sorted([o["Key"] for o in objects] + [u["Key"] for u in uploads] + spooled)

    return Backend(store, held)


BACKENDS = ("local", "s3")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "s3":
        return s3_backend(tmp_path, request.getfixturevalue("s3_endpoint"))
    return local_backend(tmp_path)


class Noise(io.RawIOBase):
    """A readable stream of `size` pseudo-random bytes that never holds them all."""

    def __init__(self, size: int, *, fail_after: int | None = None) -> None:
        self.left, self.fail_after, self.rng = size, fail_after, random.Random(size)
        self.sent, self.digest = 0, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise OSError("the client went away")
        count = min(len(buffer), self.left)
        data = self.rng.randbytes(count)
        self.digest.update(data)
        buffer[:count] = data
        self.left -= count
        self.sent += count
        return count


def _read_all(store: Store, area: Area, key: str) -> bytes:
    with store.open(area, key) as handle:
        return handle.read()


@pytest.mark.parametrize("area", list(Area))
def test_a_saved_file_reads_back_the_same_in_every_area(backend: Backend, area: Area) -> None:
    data = b"%PDF-1.7 stored bytes\n" * 10
    stored = backend.store.save(area, io.BytesIO(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert len(stored.key) == KEY_HEX_LENGTH[area]
    assert backend.store.exists(area, stored.key)
    assert backend.store.size(area, stored.key) == len(data)
    assert _read_all(backend.store, area, stored.key) == data
    assert backend.store.sha256(area, stored.key) == stored.sha256
    assert backend.store.read_checked(area, stored.key, stored.sha256) == data


def test_areas_are_separate_rooms(backend: Backend) -> None:
    stored = backend.store.save(Area.REPORTS, io.BytesIO(b"report"))
    assert not backend.store.exists(Area.PACKS, stored.key)
    with pytest.raises(FileMissing):
        backend.store.open(Area.PACKS, stored.key)


def test_area_names_are_accepted_as_strings(backend: Backend) -> None:
    stored = backend.store.save("evidence", io.BytesIO(b"x"))
    assert backend.store.exists(Area.EVIDENCE, stored.key)
    with pytest.raises(ValueError, match="nowhere"):
        backend.store.save("nowhere", io.BytesIO(b"x"))


def test_every_save_gets_a_new_key(backend: Backend) -> None:
    keys = {backend.store.save(Area.EVIDENCE, io.BytesIO(b"same")).key for _ in range(5)}
    assert len(keys) == 5


def test_save_reads_from_the_streams_current_position(backend: Backend) -> None:
    stream = io.BytesIO(b"headerBODY")
    stream.seek(6)
    stored = backend.store.save(Area.EVIDENCE, stream)
    assert _read_all(backend.store, Area.EVIDENCE, stored.key) == b"BODY"


def test_a_file_bigger_than_a_chunk_streams_in_and_out_in_little_memory(backend: Backend) -> None:
    size = 40 * CHUNK + 123  # 2.5 MB, not a multiple of the chunk
    source = Noise(size)
    tracemalloc.start()
    try:
        stored = backend.store.save(Area.PACKS, source)  # type: ignore[arg-type]
        digest, total, biggest = hashlib.sha256(), 0, 0
        with backend.store.open(Area.PACKS, stored.key) as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                total += len(chunk)
                biggest = max(biggest, len(chunk))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.size == total == size
    assert stored.sha256 == digest.hexdigest() == source.digest.hexdigest()
    assert biggest <= CHUNK
    assert peak < size // 4, f"peak {peak} bytes for a {size}-byte file: not streamed"


def test_a_failing_stream_leaves_nothing(backend: Backend) -> None:
    with pytest.raises(OSError, match="went away"):
        backend.store.save(Area.EVIDENCE, Noise(10 * CHUNK, fail_after=3 * CHUNK))  # type: ignore[arg-type]
    assert backend.held(Area.EVIDENCE) == []


def test_delete_removes_and_tolerates_an_absent_file(backend: Backend) -> None:
    stored = backend.store.save(Area.CERTIFICATES, io.BytesIO(b"certificate"))
    backend.store.delete(Area.CERTIFICATES, stored.key)
    assert not backend.store.exists(Area.CERTIFICATES, stored.key)
    backend.store.delete(Area.CERTIFICATES, stored.key)
    with pytest.raises(FileMissing):
        backend.store.open(Area.CERTIFICATES, stored.key)
    with pytest.raises(FileMissing):
        backend.store.size(Area.CERTIFICATES, stored.key)
    with pytest.raises(FileMissing):
        backend.store.sha256(Area.CERTIFICATES, stored.key)
    assert backend.store.read_checked(Area.CERTIFICATES, stored.key, stored.sha256) is None


def test_read_checked_refuses_bytes_that_do_not_match(backend: Backend) -> None:
    stored = backend.store.save(Area.DPA, io.BytesIO(b"signed"))
    assert backend.store.read_checked(Area.DPA, stored.key, "0" * 64) is None


BAD_KEYS = ["", "../../etc/passwd", "/etc/passwd", "a" * 63, "a" * 65, "A" * 64, "g" * 64,
            "a" * 62 + "/x", "a" * 60 + ".pdf", "a" * 64 + "\n", "..", "a" * 32]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_are_refused_by_every_method(backend: Backend, key: str) -> None:
    store = backend.store
    calls: list[Callable[[], object]] = [
        lambda: store.open(Area.REPORTS, key), lambda: store.delete(Area.REPORTS, key),
        lambda: store.exists(Area.REPORTS, key), lambda: store.size(Area.REPORTS, key),
        lambda: store.url(Area.REPORTS, key), lambda: store.sha256(Area.REPORTS, key)]
    for call in calls:
        with pytest.raises(InvalidKey):
            call()
    assert store.read_checked(Area.REPORTS, key, "0" * 64) is None


def test_a_key_of_one_area_is_not_valid_in_another_format(backend: Backend) -> None:
    evidence = backend.store.save(Area.EVIDENCE, io.BytesIO(b"e"))
    with pytest.raises(InvalidKey):
        backend.store.exists(Area.REPORTS, evidence.key)


def test_url_is_none_or_an_https_link(backend: Backend) -> None:
    stored = backend.store.save(Area.PACKS, io.BytesIO(b"pack"))
    link = backend.store.url(Area.PACKS, stored.key, filename="pack.pdf",
                             content_type="application/pdf")
    assert link is None or link.startswith("https://")

