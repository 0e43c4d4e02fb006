"""The local-disk backend: today's folders and names, private modes, atomic writes."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from vendorcheck.storage import Area, LocalStore
from vendorcheck.storage import local as local_module


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("area", "folder", "suffix", "length"), [
    (Area.EVIDENCE, "evidence", "", 32), (Area.REPORTS, "reports", ".pdf", 64),
    (Area.PACKS, "packs", ".pdf", 64), (Area.DPA, "dpa", ".pdf", 64),
    (Area.CERTIFICATES, "dpa_certificates", ".pdf", 64)])
def test_files_keep_the_folders_and_names_installations_already_have(tmp_path, area, folder, suffix,
                                                                     length):
    store = LocalStore.under(tmp_path)
    stored = store.save(area, io.BytesIO(b"bytes"))
    assert len(stored.key) == length
    assert (tmp_path / folder / f"{stored.key}{suffix}").read_bytes() == b"bytes"
    assert [p.name for p in (tmp_path / folder).iterdir()] == [f"{stored.key}{suffix}"]


def test_a_file_written_before_the_store_existed_is_read(tmp_path):
    key = "ab" * 32
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / f"{key}.pdf").write_bytes(b"%PDF-1.7 old pack")
    store = LocalStore.under(tmp_path)
    assert store.exists(Area.PACKS, key) and store.size(Area.PACKS, key) == 17
    with store.open(Area.PACKS, key) as handle:
        assert handle.read() == b"%PDF-1.7 old pack"


def test_folders_and_files_are_private_to_the_server_user(tmp_path):
    store = LocalStore.under(tmp_path)
    stored = store.save(Area.REPORTS, io.BytesIO(b"report"))
    assert _mode(tmp_path / "reports") == 0o700
    assert _mode(tmp_path / "reports" / f"{stored.key}.pdf") == 0o600


def test_folders_are_asked_for_at_each_call(tmp_path):
    root = {"path": tmp_path / "one"}
    store = LocalStore(lambda area: root["path"] / area.value)
    first = store.save(Area.EVIDENCE, io.BytesIO(b"1"))
    root["path"] = tmp_path / "two"
    second = store.save(Area.EVIDENCE, io.BytesIO(b"2"))
    assert (tmp_path / "one" / "evidence" / first.key).is_file()
    assert (tmp_path / "two" / "evidence" / second.key).is_file()
    assert not store.exists(Area.EVIDENCE, first.key)


def test_a_failed_rename_leaves_no_temp_file(tmp_path, monkeypatch):
    store = LocalStore.under(tmp_path)

    def full(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_module.os, "replace", full)
    with pytest.raises(OSError, match="No space left"):
        store.save(Area.EVIDENCE, io.BytesIO(b"x" * 100_000))
    assert list((tmp_path / "evidence").iterdir()) == []


def test_the_file_appears_only_once_complete(tmp_path, monkeypatch):
    store = LocalStore.under(tmp_path)
    seen = []
    real_replace = os.replace

    def watch(source, target):
        seen.append((Path(source).name, Path(target).exists(), Path(source).read_bytes()))
        real_replace(source, target)

    monkeypatch.setattr(local_module.os, "replace", watch)
    store.save(Area.EVIDENCE, io.BytesIO(b"complete"))
    [(temp_name, target_existed, written)] = seen
    assert temp_name.startswith(".") and not target_existed and written == b"complete"


def test_local_files_have_no_direct_link(tmp_path):
    store = LocalStore.under(tmp_path)
    stored = store.save(Area.PACKS, io.BytesIO(b"pack"))
    assert store.url(Area.PACKS, stored.key, filename="p.pdf") is None


def test_a_folder_under_a_key_is_not_a_stored_file(tmp_path):
    store = LocalStore.under(tmp_path)
    key = "c" * 32
    (tmp_path / "evidence" / key).mkdir(parents=True)
    assert not store.exists(Area.EVIDENCE, key)
