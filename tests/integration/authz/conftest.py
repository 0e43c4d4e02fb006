"""The authz world also holds an assessment per tenant (vendor and review routes need one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.assessment_factories import add_assessment_world


@pytest.fixture
def world(world, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Extend the two-tenant world with assessments, evidence files and clarifications."""
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.app_context():
        add_assessment_world(world)
    return world
