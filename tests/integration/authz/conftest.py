"""The authz world also holds an assessment per tenant (vendor and review routes need one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.factories.assessments import add_assessment_world
from tests.factories.dpa_relations import add_dpa_relation_world


@pytest.fixture
def world(world, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
          request: pytest.FixtureRequest):
    """Extend the two-tenant world with assessments, evidence files and clarifications."""
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.app_context():
        add_assessment_world(world)
        add_pack_world(world, app, tmp_path, monkeypatch)
        if _needs_dpa_world(request):  # after the pack world: it moves the instance folder
            add_dpa_relation_world(world)
    return world


def _needs_dpa_world(request: pytest.FixtureRequest) -> bool:
    """Publishing DPA versions is slow: build them for DPA routes and whole-matrix tests only."""
    callspec = getattr(request.node, "callspec", None)
    endpoint = callspec.params.get("endpoint") if callspec is not None else None
    name = str(endpoint)
    return endpoint is None or name.startswith("dpa.") or ".dpa_" in name


def add_pack_world(world, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Give each tenant a finished evidence pack; requested packs wait on a fake RQ queue."""
    import hashlib

    import pikepdf
    from fakeredis import FakeRedis
    from rq import Queue

    from vendorcheck.extensions import db
    from vendorcheck.models.packs import PackJob, PackStatus

    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    monkeypatch.setitem(app.extensions, "vendorcheck_pack_queue", Queue(connection=FakeRedis()))
    folder = tmp_path / "instance" / "packs"
    folder.mkdir(parents=True)
    for key, tenant in world.tenants.items():
        path = folder / f"{key * 64}.pdf"
        with pikepdf.new() as pdf:
            pdf.add_blank_page()
            pdf.save(path)
        job = PackJob(buyer_org_id=tenant.buyer.id, assessment_id=world.extra[f"assessment_{key}"],
                      status=PackStatus.DONE, progress=100, storage_key=key * 64,
                      sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                      size=path.stat().st_size)
        db.session.add(job)
        db.session.commit()
        world.extra[f"pack_{key}"] = job.id
