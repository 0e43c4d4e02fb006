"""The dashboard lists each vendor's latest assessment; "All assessments (history)" lists every one.

The flag behind it (`Assessment.is_latest`) follows sends, cancellations and deletions.
"""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import TEST_DB_URL
from tests.factories.assessments import make_contact, make_scored_assessment, new_assessment
from tests.factories.questionnaires import shipped_questionnaire
from vendorcheck.extensions import db
from vendorcheck.models import User
from vendorcheck.models.assessments import Assessment, AssessmentStatus
from vendorcheck.services import review

S = AssessmentStatus
_OPEN = re.compile(r'href="/buyer/assessments/(\d+)"')


def _shown(client, url: str) -> set[int]:
    """Return the assessments a dashboard page links to."""
    response = client.get(url)
    assert response.status_code == 200
    return {int(n) for n in _OPEN.findall(response.get_data(as_text=True))}


def _flagged(vendor_id: int) -> set[int]:
    return set(db.session.scalars(select(Assessment.id).where(Assessment.vendor_id == vendor_id,
                                                               Assessment.is_latest)))


@pytest.fixture
def rounds(app, world):
    """Vendor A assessed twice: last year's decided round, then this year's, in progress."""
    with app.app_context():
        buyer, vendor = world["a"].buyer, world["a"].vendor
        old = make_scored_assessment(buyer, vendor, status=S.DECIDED)
        new = make_scored_assessment(buyer, vendor, status=S.IN_PROGRESS, answers=None)
        return old.id, new.id


def test_default_view_shows_each_vendors_latest_the_switch_shows_all(client, world, login_as,
                                                                      rounds):
    old, new = rounds
    login_as(world.user("a.legal"))
    assert _shown(client, "/buyer/assessments") == {new}
    assert _shown(client, "/buyer/assessments?history=1") == {old, new}
    latest = client.get("/buyer/assessments").get_data(as_text=True)
    assert 'aria-current="page">Latest assessment per vendor</a>' in latest
    assert 'href="/buyer/assessments?history=1&amp;sort=vendor">All assessments (history)</a>' in latest
    history = client.get("/buyer/assessments?history=1&sort=-sent_at").get_data(as_text=True)
    assert 'aria-current="page">All assessments (history)</a>' in history
    assert 'href="/buyer/assessments?sort=-sent_at">Latest assessment per vendor</a>' in history
    assert 'name="history" value="1"' in history  # "Apply" keeps the view
    assert history.count("<strong>latest</strong>") == 1 and "<strong>latest</strong>" not in latest
    french = client.get("/buyer/assessments?lang=fr").get_data(as_text=True)
    assert "Dernière évaluation par fournisseur" in french
    assert "Toutes les évaluations (historique)" in french


def test_filters_apply_to_the_latest_in_the_default_view(client, world, login_as, rounds):
    old, new = rounds
    login_as(world.user("a.legal"))
    assert _shown(client, "/buyer/assessments?status=decided") == set()  # its latest is in progress
    assert _shown(client, "/buyer/assessments?status=decided&history=1") == {old}
    assert _shown(client, "/buyer/assessments?status=in_progress") == {new}
    empty = client.get("/buyer/assessments?status=decided").get_data(as_text=True)
    assert "Nothing matches these filters" in empty


def test_a_new_send_becomes_the_latest(app, client, world, login_as, rounds):
    with app.app_context():
        contact = make_contact(world["a"].vendor, "contact@vendor-a.example", "Contact A").id
    login_as(world.user("a.admin"))
    response = client.post("/buyer/assessments/new", data={
        "vendor_id": world["a"].vendor.id, "questionnaire": "art28-processor-audit",
        "due_date": (date.today() + timedelta(days=20)).isoformat(), "contacts": [contact]})
    assert response.status_code == 302
    sent = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        assert _flagged(world["a"].vendor.id) == {sent}
    assert _shown(client, "/buyer/assessments") == {sent}
    assert _shown(client, "/buyer/assessments?history=1") == {*rounds, sent}


def test_cancelling_the_latest_gives_the_row_back_to_the_one_before(app, world, rounds):
    old, new = rounds
    with app.test_request_context():  # the cancellation e-mail builds links
        vendor = world["a"].vendor
        by = db.session.get(User, world.user("a.admin").id)
        review.cancel_assessment(db.session.get(Assessment, new), "Sent by mistake", by=by)
        assert _flagged(vendor.id) == {old}
        again = make_scored_assessment(world["a"].buyer, vendor, status=S.SENT, answers=None)
        assert again.is_latest and _flagged(vendor.id) == {again.id}
        review.cancel_assessment(again, "Wrong questionnaire", by=by)
        assert _flagged(vendor.id) == {old}


def test_a_vendor_whose_every_assessment_is_cancelled_shows_the_newest(app, world):
    with app.test_request_context():  # the cancellation e-mail builds links
        buyer, vendor = world["a"].buyer, world["a"].vendor
        by = db.session.get(User, world.user("a.admin").id)
        first = make_scored_assessment(buyer, vendor, status=S.SENT, answers=None)
        second = make_scored_assessment(buyer, vendor, status=S.SENT, answers=None)
        review.cancel_assessment(db.session.get(Assessment, second.id), "Duplicate", by=by)
        review.cancel_assessment(db.session.get(Assessment, first.id), "Not needed", by=by)
        assert _flagged(vendor.id) == {second.id}  # the row says "cancelled", not "never assessed"


def test_deleting_the_latest_flags_the_one_before(app, world, rounds):
    old, new = rounds
    with app.app_context():
        db.session.delete(db.session.get(Assessment, new))
        db.session.commit()
        assert _flagged(world["a"].vendor.id) == {old}


def test_the_history_lists_assessments_and_status_none_still_lists_vendors_never_assessed(
        app, client, world, login_as, rounds):
    with app.app_context():
        from tests.factories.accounts import make_vendor

        make_vendor(world["a"].buyer, "Never Sent Ltd")
    login_as(world.user("a.legal"))
    history = client.get("/buyer/assessments?history=1").get_data(as_text=True)
    assert "Never Sent Ltd" not in history  # no assessment, no history
    for url in ("/buyer/assessments?status=none", "/buyer/assessments?status=none&history=1"):
        body = client.get(url).get_data(as_text=True)
        assert "Never Sent Ltd" in body and not _OPEN.search(body)



@pytest.mark.skipif(not TEST_DB_URL, reason="SQLite has a single writer; PostgreSQL only")
def test_two_sends_at_once_for_one_vendor_flag_the_second_only(app, world, rounds):
    """The first send's transaction is open when the second starts: the second waits for it (the
    vendor's row lock), then sees it, so one assessment is flagged and neither send fails."""
    outcome: dict[str, Any] = {}

    def second_send() -> None:
        with app.app_context():
            try:
                outcome["id"] = _send(app, world)
            except Exception as exc:  # noqa: BLE001 - the test reports it below
                outcome["error"] = exc

    with app.app_context():
        first = _send(app, world, commit=False)
        other = threading.Thread(target=second_send)
        other.start()
        other.join(timeout=0.5)
        assert other.is_alive()  # waiting for the first send's transaction
        db.session.commit()
    other.join(timeout=10)
    assert "error" not in outcome, outcome.get("error")
    with app.app_context():
        assert _flagged(world["a"].vendor.id) == {outcome["id"]} and outcome["id"] > first


def _send(app, world, *, commit: bool = True) -> int:
    """Add a sent assessment for vendor A (flushed; committed unless told); return its id."""
    buyer, vendor = world["a"].buyer, world["a"].vendor
    assessment = new_assessment(buyer, vendor, shipped_questionnaire(), status=S.SENT)
    if commit:
        db.session.commit()
    return assessment.id


@pytest.mark.parametrize("view", ["", "&history=1"])
def test_a_cursor_with_an_impossible_missing_key_answers_400(client, world, login_as, rounds, view):
    from vendorcheck.services.assessments.dashboard import encode_cursor

    login_as(world.user("a.legal"))
    # The history sorted on a column ends with the assessment id; the latest view with the vendor's
    # name and id, then the assessment id.
    cursor = encode_cursor((5, 50.0, 7) if view else (5, 50.0, "vendor record a", 1, 7))
    for name in ("after", "before"):
        response = client.get(f"/buyer/assessments?sort=-score{view}&{name}={cursor}")
        assert response.status_code == 400, name
        assert "page link is damaged" in response.get_data(as_text=True)
