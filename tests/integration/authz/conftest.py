"""The authz world also holds an assessment per tenant (vendor and review routes need one)."""

from __future__ import annotations

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
)
from vendorcheck.extensions import db
from vendorcheck.models.assessments import FindingRecord


@pytest.fixture
def world(world: World, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          request: pytest.FixtureRequest) -> World:
    """Extend the two-tenant world with assessments, evidence files and clarifications."""
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.app_context():
        add_assessment_world(world)
        # Packs live in a fresh instance folder; requested packs wait on a fake RQ queue.
        monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
        monkeypatch.setitem(app.extensions, "vendorcheck_pack_queue", Queue(connection=FakeRedis()))
        add_pack_world(world, tmp_path / "instance" / "packs")
        add_webhook_world(world)
        if _needs_dpa_world(request):  # after the pack world: it moves the instance folder
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
