"""Draft reports are cached by the digest of their inputs: same inputs, one render; any change, a new one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.reports import make_reviewed_assessment
from vendorcheck import create_app
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Role
from vendorcheck.models.assessments import Answer, Assessment, AssessmentStatus, Override
from vendorcheck.models.base import utcnow
from vendorcheck.models.reports import DraftReport
from vendorcheck.services import reports
from vendorcheck.storage import Area, current_store


@pytest.fixture(autouse=True)
def _instance(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep keys and stored drafts in a fresh instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the renders the report service asks for (each still renders for real)."""
    calls: list[str] = []
    real = reports.render_pdf_isolated

    def counting(html: str, **kwargs: Any) -> bytes:
        calls.append(html)
        return real(html, **kwargs)

    monkeypatch.setattr(reports, "render_pdf_isolated", counting)
    return calls


@pytest.fixture
def draft(app: Flask) -> Iterator[Assessment]:
    """An assessment in review (not decided): its report is a draft."""
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme")
        user = make_user("reviewer@acme.example", org=buyer, role=Role.ADMIN, name="Alice Reviewer")
        vendor = make_vendor(buyer, "Cloudy Inc.", owner=user)
        yield make_reviewed_assessment(buyer, vendor, by=user, decided=False)


def _download(assessment: Assessment, locale: str = "en") -> bytes:
    return reports.render_assessment_report(assessment, locale=locale, by=None)


def _drafts() -> list[DraftReport]:
    return list(db.session.scalars(select(DraftReport).order_by(DraftReport.locale)))


def test_a_repeat_download_with_the_same_inputs_is_served_from_storage(draft, renders):
    first = _download(draft)
    second = _download(draft)
    assert len(renders) == 1
    assert second == first
    [kept] = _drafts()
    assert current_store().read_checked(Area.DRAFTS, kept.storage_key, kept.sha256) == first
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("report.downloaded") == 2  # every download is still audited


def test_a_changed_answer_renders_anew_and_replaces_the_old_draft(draft, renders):
    _download(draft)
    [old] = _drafts()
    old_key = old.storage_key
    answer = db.session.scalars(select(Answer).where(Answer.assessment_id == draft.id)).first()
    assert answer is not None
    answer.value = {"changed": True} if not isinstance(answer.value, str) else answer.value + " (edited)"
    db.session.commit()
    _download(draft)
    assert len(renders) == 2
    [new] = _drafts()
    assert new.storage_key != old_key
    assert not current_store().exists(Area.DRAFTS, old_key)  # the old draft is pruned
    _download(draft)
    assert len(renders) == 2


def test_a_changed_override_renders_anew(draft, renders):
    _download(draft)
    override = db.session.scalars(select(Override).where(Override.assessment_id == draft.id)).first()
    assert override is not None
    override.comment = "Reconsidered after the vendor's new evidence."
    db.session.commit()
    _download(draft)
    assert len(renders) == 2


def test_each_locale_is_its_own_draft(draft, renders):
    english, french = _download(draft, "en"), _download(draft, "fr")
    assert len(renders) == 2 and english != french
    assert [d.locale for d in _drafts()] == ["en", "fr"]
    assert (_download(draft, "en"), _download(draft, "fr")) == (english, french)
    assert len(renders) == 2


def test_a_draft_whose_file_is_gone_is_rendered_again(draft, renders):
    _download(draft)
    [kept] = _drafts()
    current_store().delete(Area.DRAFTS, kept.storage_key)
    _download(draft)
    assert len(renders) == 2


def test_the_cache_survives_an_app_restart(app, draft, renders):
    pdf = _download(draft)
    assessment_id = draft.id
    config = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "TESTING",
                                               "WTF_CSRF_ENABLED", "RATELIMIT_ENABLED", "SERVER_NAME")}
    restarted = create_app(config)
    restarted.instance_path = app.instance_path  # the same instance folder: the same store and key
    try:
        with restarted.app_context():
            again = db.session.get(Assessment, assessment_id)
            assert again is not None
            assert _download(again) == pdf
    finally:
        with restarted.app_context():
            db.session.remove()
            db.engine.dispose()
    assert len(renders) == 1


def test_deciding_removes_the_drafts(draft, renders):
    _download(draft)
    key = _drafts()[0].storage_key
    draft.status = AssessmentStatus.DECIDED
    draft.decided_at = utcnow()
    db.session.commit()
    _download(draft)  # the decided report is rendered, stored, and replaces every draft
    assert _drafts() == []
    assert not current_store().exists(Area.DRAFTS, key)


def test_prune_removes_old_drafts_only(draft, renders):
    _download(draft, "en")
    _download(draft, "fr")
    english, french = _drafts()
    english.created_at = utcnow() - timedelta(days=3)
    old_key, recent_key = english.storage_key, french.storage_key
    db.session.commit()
    assert reports.prune_drafts(2) == 1
    assert [d.locale for d in _drafts()] == ["fr"]
    assert not current_store().exists(Area.DRAFTS, old_key)
    assert current_store().exists(Area.DRAFTS, recent_key)


def test_the_prune_command_reports_how_many_drafts_it_removed(app, draft, renders):
    _download(draft)
    draft_row = _drafts()[0]
    draft_row.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["report", "prune-drafts"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 cached draft report(s)." in result.output
    assert _drafts() == []
