"""The authz world also holds an assessment per tenant (vendor and review routes need one).

Building that world takes about 400 SQL statements and a few files, and the matrix asks for it some 2,000
times. On SQLite it is built once per kind (with or without the DPA world), then each test gets a copy:
the database restored with SQLite's backup API and the world's folder copied back, so every test still
starts from the same fresh world and nothing one test writes reaches the next.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fakeredis import FakeRedis
from flask import Flask
from rq import Queue

from tests.factories.api import make_token, token_id
from tests.factories.webhooks import add_webhook_world
from tests.factories.world import (
    World,
    add_assessment_world,
    add_dpa_relation_world,
    add_kit_world,
    add_pack_world,
    make_world,
)
from vendorcheck.extensions import db
from vendorcheck.models.assessments import FindingRecord


@dataclass
class Snapshot:
    """A built world: its database pages, its files and the world object holding its ids."""

    database: sqlite3.Connection
    files: Path
    world: World


class WorldStore:
    """Built worlds by kind, and the folders their files live in while a test runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.snapshots: dict[bool, Snapshot] = {}

    def _folder(self, with_dpa: bool) -> Path:
        """Return the folder of one kind of world."""
        return self.root / ("dpa" if with_dpa else "base")

    def live(self, with_dpa: bool) -> Path:
        """Return the folder a test's world keeps its files in (the same path for every test)."""
        return self._folder(with_dpa) / "live"

    def save(self, with_dpa: bool, world: World) -> None:
        """Keep a copy of the database and the files of a world just built."""
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        with _driver_connection() as connection:
            connection.backup(copy)
        files = self._folder(with_dpa) / "pristine"
        shutil.copytree(self.live(with_dpa), files)
        self.snapshots[with_dpa] = Snapshot(copy, files, world)

    def restore(self, with_dpa: bool) -> World | None:
        """Put a saved world back in the database and its folder; None when there is none yet."""
        snapshot = self.snapshots.get(with_dpa)
        if snapshot is None:
            return None
        db.session.remove()
        with _driver_connection() as connection:
            snapshot.database.backup(connection)
        live = self.live(with_dpa)
        shutil.rmtree(live, ignore_errors=True)
        shutil.copytree(snapshot.files, live)
        return replace(snapshot.world, extra=dict(snapshot.world.extra))


class _driver_connection:  # noqa: N801 - used as a context manager, named like one
    """The SQLite connection under one of the engine's pooled connections, given back after use."""

    def __enter__(self) -> sqlite3.Connection:
        self.pooled = db.engine.raw_connection()
        return self.pooled.driver_connection  # type: ignore[return-value]

    def __exit__(self, *exc: object) -> None:
        self.pooled.close()


@pytest.fixture(scope="session")
def world_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorldStore]:
    """The session's built worlds (SQLite only: PostgreSQL builds each test's world)."""
    store = WorldStore(tmp_path_factory.mktemp("worlds"))
    yield store
    for snapshot in store.snapshots.values():
        snapshot.database.close()


@pytest.fixture
def world(app: Flask, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
          world_store: WorldStore) -> World:
    """Two tenants with assessments, evidence files, clarifications, packs, webhooks and API tokens."""
    with_dpa = _needs_dpa_world(request)
    live = world_store.live(with_dpa)
    # Evidence, packs, DPA PDFs and the signing key live in the world's own folder.
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(live / "evidence"))
    monkeypatch.setattr(app, "instance_path", str(live / "instance"))
    # Requested packs wait on a fake RQ queue.
    monkeypatch.setitem(app.extensions, "vendorcheck_pack_queue", Queue(connection=FakeRedis()))
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        restored = world_store.restore(with_dpa) if sqlite else None
        if restored is not None:
            return restored
        shutil.rmtree(live, ignore_errors=True)
        built = _build(live, with_dpa)
        if sqlite:
            world_store.save(with_dpa, built)
    return built


def _build(live: Path, with_dpa: bool) -> World:
    """Build the whole authz world in the database and the `live` folder."""
    world = make_world()
    add_assessment_world(world)
    add_pack_world(world, live / "instance" / "packs")
    add_webhook_world(world)
    if with_dpa:
        add_dpa_relation_world(world)
        add_kit_world(world)
    add_api_world(world)
    return world


def add_api_world(world: World) -> None:
    """Give each tenant's assessment a finding, and each actor a personal token of the web page."""
    for key in world.tenants:
        finding = FindingRecord(assessment_id=world.extra[f"assessment_{key}"], finding_id="no_dpa",
                                severity="high", title={"en": "No DPA"}, refs=[])
        db.session.add(finding)
        db.session.commit()
        world.extra[f"finding_{key}"] = finding.id
    for actor in ("a.admin", "a.assessor", "a.legal", "a.vendor", "b.admin", "b.vendor"):
        secret = make_token(world.user(actor), world.org_of(actor), "read", name="Web page")
        world.extra[f"web_token_{actor}"] = token_id(secret)


def _needs_dpa_world(request: pytest.FixtureRequest) -> bool:
    """Publishing DPA versions is slow: build them for DPA routes and whole-matrix tests only."""
    callspec = getattr(request.node, "callspec", None)
    endpoint = callspec.params.get("endpoint") if callspec is not None else None
    name = str(endpoint)
    return (endpoint is None or name.startswith(("dpa.", "api_dpa.")) or ".dpa_" in name
            or ".kit_" in name)
