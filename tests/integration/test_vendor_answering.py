"""Vendor side: list, sections (visibility, tables), autosave conflicts and replays, submit, copy."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from tests.conftest import TEST_DB_URL
from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.assessments import make_assessment, make_clarification, make_contact
from tests.factories.questionnaires import COMPLETE, install_questionnaire
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import User
from vendorcheck.models.assessments import (
    Answer,
    Assessment,
    AssessmentStatus,
    AutosaveReceipt,
    FindingRecord,
)
from vendorcheck.services import assessments as svc


def _ref(user: Any) -> SimpleNamespace:
    return SimpleNamespace(id=user.id, session_epoch=user.session_epoch)


@pytest.fixture
def env(app, tmp_path, monkeypatch):
    """A buyer, a vendor organisation with one user, an assessment; plus another vendor."""
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.app_context():
        install_questionnaire()
        buyer = make_org("Buyer One", slug="buyer-one")
        buyer2 = make_org("Buyer Two", slug="buyer-two")
        vorg = make_org("Vendor Co", buyer=False, vendor=True, slug="vendor-co")
        other_org = make_org("Other Vendor", buyer=False, vendor=True, slug="other-vendor")
        admin = make_user("admin@buyer.example", org=buyer)
        vuser = make_user("marie@vendor.example", org=vorg, name="Marie Dupont")
        vuser2 = make_user("paul@vendor.example", org=vorg, name="Paul Martin")
        other_user = make_user("eve@other.example", org=other_org)
        vendor = make_vendor(buyer, "Vendor Co record", vendor_org=vorg)
        vendor_b2 = make_vendor(buyer2, "Vendor Co at buyer two", vendor_org=vorg)
        other_vendor = make_vendor(buyer, "Other record", vendor_org=other_org)
        contact = make_contact(vendor, "marie@vendor.example", "Marie")
        a = make_assessment(buyer, vendor, by=admin, contact=contact,
                            due_date=date.today() + timedelta(days=7))
        other = make_assessment(buyer, other_vendor, by=admin, answers=COMPLETE,
                                status=AssessmentStatus.SUBMITTED, submitted=True)
        return SimpleNamespace(
            a=a.id, other=other.id, vendor_b2=vendor_b2.id, buyer2=buyer2.id, vendor=vendor.id,
            buyer=buyer.id, admin=_ref(admin), vuser=_ref(vuser), vuser2=_ref(vuser2),
            other_user=_ref(other_user))


def _answers(app, assessment_id: int) -> dict[str, Any]:
    with app.app_context():
        rows = db.session.scalars(select(Answer).where(Answer.assessment_id == assessment_id))
        return {r.item_id: r.value for r in rows}


def _autosave(client, aid: int, item: str, value: Any, version: int | None = None,
              request_id: str | None = None):
    return client.post(f"/vendor/assessments/{aid}/autosave", json={
        "item_id": item, "value": value, "version": version,
        "request_id": request_id or str(uuid.uuid4())})


def test_vendor_lists_assessments_from_every_buyer(app, client, login_as, env):
    login_as(env.vuser)
    page = client.get("/vendor/assessments")
    assert page.status_code == 200
    assert "Buyer One" in page.get_data(as_text=True)
    assert "Other Vendor" not in page.get_data(as_text=True)
    overview = client.get(f"/vendor/assessments/{env.a}")
    assert overview.status_code == 200
    assert 'role="progressbar"' in overview.get_data(as_text=True)


def test_empty_list_has_an_explanation(app, client, login_as, env):
    with app.app_context():
        lonely = make_org("Lonely", buyer=False, vendor=True, slug="lonely")
        user = make_user("lonely@x.example", org=lonely)
        ref = _ref(user)
    login_as(ref)
    assert "No questionnaire" in client.get("/vendor/assessments").get_data(as_text=True)


def test_section_page_renders_fields_named_after_items(client, login_as, env):
    login_as(env.vuser)
    html = client.get(f"/vendor/assessments/{env.a}/sections/main").get_data(as_text=True)
    assert 'name="has_dpa"' in html and "<legend>" in html
    assert 'name="audits__justification"' in html
    assert "Not applicable" in html  # audits allows N/A
    assert 'name="csrf-token"' in html and "<script>" not in html.replace(
        '<script type="application/json"', "")


def test_hidden_item_posted_value_is_ignored(app, client, login_as, env):
    login_as(env.vuser)
    response = client.post(f"/vendor/assessments/{env.a}/sections/subs_section", data={
        "uses_sub": "no", "sub_note": "should be ignored", "subs-rows": "1",
        "subs-0-name": "Acme", "subs-0-country": "US"})
    assert response.status_code == 302
    stored = _answers(app, env.a)
    assert stored["uses_sub"] == "no"
    assert "sub_note" not in stored and "subs" not in stored


def test_table_rows_add_save_errors_and_remove(app, client, login_as, env):
    login_as(env.vuser)
    url = f"/vendor/assessments/{env.a}/sections/subs_section"
    added = client.post(url, data={"uses_sub": "yes", "subs-rows": "0", "add_row": "subs"})
    assert added.status_code == 200 and 'name="subs-0-name"' in added.get_data(as_text=True)
    dup = client.post(url, data={"uses_sub": "yes", "subs-rows": "2", "subs-0-name": "Acme",
                                 "subs-0-country": "FR", "subs-1-name": "Acme",
                                 "subs-1-country": "DE"})
    assert dup.status_code == 422
    assert "Row 2, Name" in dup.get_data(as_text=True)
    assert "subs" not in _answers(app, env.a)
    ok = client.post(url, data={"uses_sub": "yes", "subs-rows": "2", "subs-0-name": "Acme",
                                "subs-0-country": "FR", "subs-1-name": "Beta",
                                "subs-1-country": "DE"})
    assert ok.status_code == 302
    assert _answers(app, env.a)["subs"] == [{"name": "Acme", "country": "FR"},
                                            {"name": "Beta", "country": "DE"}]
    removed = client.post(url, data={"uses_sub": "yes", "subs-rows": "2", "subs-0-name": "Acme",
                                     "subs-0-country": "FR", "subs-1-name": "Beta",
                                     "subs-1-country": "DE", "remove_row": "subs-0"})
    assert removed.status_code == 200
    html = removed.get_data(as_text=True)
    assert 'value="Beta"' in html and 'value="Acme"' not in html


def test_autosave_saves_progress_and_marks_results_stale(app, client, login_as, env):
    login_as(env.vuser)
    response = _autosave(client, env.a, "has_dpa", "no")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["version"] == 1 and "Saved at" in body["message"] and body["progress"] > 0
    with app.app_context():
        a = db.session.get(Assessment, env.a)
        assert a.status is AssessmentStatus.IN_PROGRESS and a.progress == body["progress"]
        assert a.completeness > 0 and a.results_stale
        assert a.open_findings == 0 and db.session.scalars(select(FindingRecord)).all() == []


# The export of one assessment re-scores it first; the dashboard, the register export
# (test_buyer_dashboard_shows_last_results_until_the_queue_rescores) and the review page
# (test_results_age.py: it shows the last results with their age) do not.
@pytest.mark.parametrize("page", ["/buyer/assessments/{a}/export.csv"])
def test_buyer_page_rescores_stale_results_first(app, client, login_as, env, page):
    login_as(env.vuser)
    assert _autosave(client, env.a, "has_dpa", "no").status_code == 200
    login_as(env.admin)
    response = client.get(page.format(a=env.a))
    assert response.status_code == 200
    with app.app_context():
        a = db.session.get(Assessment, env.a)
        assert not a.results_stale and a.open_findings == 1 and a.tier == "high"
        record = db.session.scalars(select(FindingRecord)).one()
        assert record.finding_id == "no_dpa"


def test_buyer_dashboard_shows_last_results_until_the_queue_rescores(app, client, login_as, env):
    """Without Redis the app's own queue re-scores after the save, never the dashboard request."""
    from vendorcheck.services.assessments import results

    login_as(env.vuser)
    assert _autosave(client, env.a, "has_dpa", "no").status_code == 200
    login_as(env.admin)
    assert "being updated" in client.get("/buyer/assessments").get_data(as_text=True)
    assert client.get("/buyer/vendors/export.csv").status_code == 200
    with app.app_context():
        assert db.session.get(Assessment, env.a).results_stale  # the pages re-scored nothing
        assert results.drain_rescores() == 1  # what the queue's thread does after RESCORE_DELAY
    assert "being updated" not in client.get("/buyer/assessments").get_data(as_text=True)
    with app.app_context():
        a = db.session.get(Assessment, env.a)
        assert not a.results_stale and a.open_findings == 1 and a.tier == "high"


def test_report_data_rescores_stale_results_first(app, client, login_as, env):
    """The CLI and background jobs read reports outside buyer pages: they re-score too."""
    from vendorcheck.services.reports import report_data

    login_as(env.vuser)
    assert _autosave(client, env.a, "has_dpa", "no").status_code == 200
    with app.app_context():
        a = db.session.get(Assessment, env.a)
        assert a.results_stale
        report_data(a)
        assert not a.results_stale and a.open_findings == 1
        assert [f.finding_id for f in a.findings] == ["no_dpa"]


def test_results_are_the_same_whether_saved_by_autosave_or_section(app, client, login_as, env):
    """The lazily refreshed results equal those of a full re-score on every save."""
    login_as(env.vuser)
    for item, value in (("has_dpa", "no"), ("notes", "x")):
        assert _autosave(client, env.a, item, value).status_code == 200
    with app.app_context():
        a = db.session.get(Assessment, env.a)
        progress, completeness = a.progress, a.completeness
        svc.ensure_fresh(a)
        a = db.session.get(Assessment, env.a)
        assert (a.progress, a.completeness, a.results_stale) == (progress, completeness, False)
        fresh = (a.score, a.tier, a.open_findings)
        svc.refresh_results(a)
        assert (a.score, a.tier, a.open_findings) == fresh


def test_progress_after_each_autosave_is_the_full_computations(app, client, login_as, env):
    """Over seeded random sequences of autosaves (set, change, clear; items shown and hidden by
    rules; a table with required cells), the progress answered and the progress and completeness
    stored are what a full re-score of the stored answers gives."""
    import random

    from vendorcheck.questionnaire import score

    choices: dict[str, list[Any]] = {
        "has_dpa": ["yes", "no", None], "audits": ["yes", "no", "na", None],
        "hours": ["12", "0", None], "notes": ["Some notes", "", None],
        "uses_sub": ["yes", "no", None], "sub_note": ["Via EU hosting", None],
        "subs": [[{"name": "Acme", "country": "FR"}], [{"name": "Beta"}], [], None]}
    rng = random.Random(18)
    login_as(env.vuser)
    versions: dict[str, int] = {}
    saved = 0
    for _ in range(60):
        item = rng.choice(sorted(choices))
        response = _autosave(client, env.a, item, rng.choice(choices[item]),
                             version=versions.get(item, 0))
        if response.status_code == 422:  # a hidden item is still saved; a refused value is not
            continue
        assert response.status_code == 200, response.get_json()
        versions[item], saved = response.get_json()["version"], saved + 1
        with app.app_context():
            assessment = db.session.get(Assessment, env.a)
            q = svc.questionnaire_of(assessment)
            full = score(q, svc.answers_of(assessment))
            expected = svc.overall_progress(svc.section_progress(q, full.visibility))
            assert (assessment.progress, assessment.completeness) == (expected, full.completeness)
            assert response.get_json()["progress"] == expected
    assert saved >= 45, saved


def test_autosave_conflict_on_stale_version_keeps_first_value(app, client, login_as, env):
    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "first").status_code == 200
    assert _autosave(client, env.a, "notes", "second", version=1).status_code == 200
    login_as(env.vuser2)
    stale = _autosave(client, env.a, "notes", "stale", version=1)
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "conflict" and "Marie Dupont" in body["message"]
    assert body["yours"] == "stale" and body["current"] == "second"
    assert _answers(app, env.a)["notes"] == "second"


def test_a_first_answer_saved_meanwhile_is_a_conflict_not_overwritten(app, client, login_as, env):
    """Both pages showed no answer: the second save (version 0 / an empty field) must not win."""
    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "first", version=0).status_code == 200
    login_as(env.vuser2)
    late = _autosave(client, env.a, "notes", "late", version=0)
    assert late.status_code == 409 and late.get_json()["current"] == "first"
    page = client.post(f"/vendor/assessments/{env.a}/sections/main",
                       data={"notes": "late too", "notes__version": ""})
    assert page.status_code == 422 and "Marie Dupont" in page.get_data(as_text=True)
    assert _answers(app, env.a)["notes"] == "first"


def test_replayed_request_id_returns_stored_result(app, client, login_as, env):
    login_as(env.vuser)
    first = _autosave(client, env.a, "hours", "12", request_id="req-1")
    again = _autosave(client, env.a, "hours", "12", request_id="req-1")
    assert first.status_code == again.status_code == 200
    assert first.get_json()["version"] == again.get_json()["version"] == 1
    assert again.get_json()["replayed"] is True
    with app.app_context():
        assert db.session.scalars(select(Answer).where(Answer.assessment_id == env.a)).one().version == 1
        assert len(db.session.scalars(select(AutosaveReceipt)).all()) == 1


def test_a_replay_gets_its_first_answer_even_after_the_answer_moved_on(app, client, login_as, env):
    """The version check and the editability come after the receipt: a retried request whose
    version is now stale is answered as it was the first time, not with a 409."""
    login_as(env.vuser)
    first = _autosave(client, env.a, "notes", "one", version=0, request_id="req-first")
    assert _autosave(client, env.a, "notes", "two", version=1).status_code == 200
    again = _autosave(client, env.a, "notes", "one", version=0, request_id="req-first")
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["replayed"] is True
    assert again.get_json()["version"] == first.get_json()["version"] == 1
    assert _answers(app, env.a)["notes"] == "two"
    elsewhere = _autosave(client, env.a, "hours", "3", version=0, request_id="req-first")
    assert elsewhere.status_code == 409  # the request id names another answer's save


def test_the_receipt_costs_one_statement_and_a_refused_save_keeps_none(app, client, login_as, env):
    """INSERT … ON CONFLICT records the request id: no SELECT before it; a refused save rolls it back,
    so the same request id saves when retried."""
    from benchmarks.sqlcount import count_queries

    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "warm", request_id="warm-up").status_code == 200
    counts = []
    for n, request_id in enumerate(("req-a", "")):
        with count_queries(app) as seen:
            response = client.post(f"/vendor/assessments/{env.a}/autosave", json={
                "item_id": "notes", "value": f"v{n}", "version": n + 1, "request_id": request_id})
        assert response.status_code == 200, response.get_json()
        counts.append(len(seen))
    with app.app_context():
        in_the_write = db.engine.dialect.name == "postgresql"  # PostgreSQL: part of one statement
    # with a request id: one INSERT more (none on PostgreSQL), nothing else
    assert counts[0] == counts[1] + (0 if in_the_write else 1), counts
    stale = _autosave(client, env.a, "notes", "late", version=1, request_id="req-b")
    assert stale.status_code == 409
    with app.app_context():
        ids = set(db.session.scalars(select(AutosaveReceipt.request_id)))
    assert ids == {"warm-up", "req-a"}  # the refused save left no receipt
    retried = _autosave(client, env.a, "notes", "late", version=3, request_id="req-b")
    assert retried.status_code == 200 and retried.get_json()["version"] == 4
    assert "replayed" not in retried.get_json() or retried.get_json()["replayed"] is False


# Session with user and memberships; the assessment by its lock; its answers with the audit
# chain's head, locked; then on SQLite the receipt, the answer, the progress, the audit entry and
# the head's move (8); on PostgreSQL the receipt, answer, progress, audit entry and the head's
# move in one statement (4; 5 while the entry was a statement of its own). Was 11 on both: a
# load, then a lock, the head read on its own, and the user read again after the commit for the
# time zone of "Saved at …".
SAVE_STATEMENTS = {"sqlite": 8, "postgresql": 4}


def _assessment_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")
            and " FROM assessment " in f"{' '.join(s.split())} "]


def test_one_autosave_loads_the_assessment_by_its_lock_and_reads_nothing_after_its_commit(
        app, client, login_as, env):
    """An autosave with request id and version (as the browser sends it) runs a fixed number of
    statements: the assessment is read once, by the SELECT … FOR UPDATE that takes the save turn."""
    from benchmarks.sqlcount import count_queries

    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "first", version=0).status_code == 200
    with count_queries(app) as seen:
        response = _autosave(client, env.a, "notes", "second", version=1, request_id="req-n")
    assert response.status_code == 200 and response.get_json()["version"] == 2
    assert "Saved at" in response.get_json()["message"]
    with app.app_context():
        dialect = db.engine.dialect.name
    assert len(seen) <= SAVE_STATEMENTS[dialect], "\n".join(seen)
    reads = _assessment_reads(seen)
    assert len(reads) == 1, reads
    if dialect == "postgresql":
        assert "FOR UPDATE OF assessment" in reads[0]
        # the answers as one JSON list, with the chain's head locked: one row, not one per answer
        assert [s for s in seen if "json_agg" in s and "FROM audit_chain_head" in s], seen
    # only the columns a save reads, of the assessment and of its vendor
    assert "assessment.status" in reads[0] and "vendor.vendor_org_id" in reads[0]
    assert "assessment.message" not in reads[0] and "legal_name" not in reads[0], reads[0]


def test_a_save_after_the_turn_was_committed_takes_the_turn_again(app, env):
    """The turn taken by the locked load lasts one transaction: once committed, `save_answer`
    locks the assessment again before reading its answers."""
    from benchmarks.sqlcount import count_queries

    with app.test_request_context():
        user = db.session.get(User, env.vuser.id)
        assessment = svc.take_save_turn(env.a, None)
        assert assessment is not None
        db.session.commit()
        with count_queries(app) as seen:
            svc.save_answer(assessment, "notes", "later", seen_version=None, request_id=None, by=user)
        relocks = [s for s in _assessment_reads(seen)
                   if " ".join(s.split()).startswith("SELECT assessment.status, assessment.submitted_at")]
        assert len(relocks) == 1, seen  # the turn's re-read of what decides whether it may change
        if db.engine.dialect.name == "postgresql":
            assert "FOR UPDATE" in relocks[0]
    assert _answers(app, env.a)["notes"] == "later"


def test_autosaves_chain_their_audit_entries_from_the_head_read_with_the_answers(
        app, client, login_as, env):
    """The head locked by the answers' read is the one the entry is chained to: the first save of
    an organisation (no head yet) and the next ones verify end to end."""
    from vendorcheck import audit
    from vendorcheck.models import AuditEntry

    login_as(env.vuser)
    for n in range(3):
        assert _autosave(client, env.a, "notes", f"v{n}", version=n).status_code == 200
    login_as(env.vuser2)
    assert _autosave(client, env.a, "hours", "4", version=0).status_code == 200
    with app.app_context():
        vendor_org = db.session.get(Assessment, env.a).vendor_org_id
        entries = db.session.scalars(select(AuditEntry).where(
            AuditEntry.chain_id == vendor_org, AuditEntry.action == "answer_saved")
            .order_by(AuditEntry.seq)).all()
        assert len(entries) == 4 and audit.verify() == []


def test_the_audit_entry_is_written_by_the_saves_own_statement_and_only_for_a_save(
        app, client, login_as, env):
    """On PostgreSQL the entry and the head's move are WITH clauses of the save's statement (no
    INSERT of its own); a replay, a conflict or a refused value appends nothing, and the chain
    verifies after each kind of request."""
    from benchmarks.sqlcount import count_queries
    from vendorcheck import audit
    from vendorcheck.models import AuditEntry

    def saved_entries() -> list[dict[str, Any]]:
        with app.app_context():
            assert audit.verify() == []
            return [e.details for e in db.session.scalars(select(AuditEntry).where(
                AuditEntry.action == "answer_saved").order_by(AuditEntry.chain_id, AuditEntry.seq))]

    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "first", version=0).status_code == 200
    with count_queries(app) as seen:
        assert _autosave(client, env.a, "notes", "second", version=1,
                         request_id="req-once").status_code == 200
    with app.app_context():
        dialect = db.engine.dialect.name
    entry_inserts = [s for s in seen if "INSERT INTO audit_entry" in s and "UPDATE answer" not in s]
    writes_with_entry = [s for s in seen if "INSERT INTO audit_entry" in s and "UPDATE answer" in s]
    if dialect == "postgresql":
        assert (len(entry_inserts), len(writes_with_entry)) == (0, 1), seen
    else:
        assert (len(entry_inserts), len(writes_with_entry)) == (1, 0), seen
    assert saved_entries() == [{"item": "notes", "version": 1}, {"item": "notes", "version": 2}]
    assert _autosave(client, env.a, "notes", "second", version=1,
                     request_id="req-once").get_json()["replayed"] is True
    assert _autosave(client, env.a, "notes", "stale", version=1).status_code == 409
    assert _autosave(client, env.a, "hours", "-5", version=0).status_code == 422
    assert len(saved_entries()) == 2
    assert _autosave(client, env.a, "notes", "third", version=2).status_code == 200
    assert saved_entries()[-1] == {"item": "notes", "version": 3}


def test_a_head_held_in_an_earlier_transaction_is_not_used(app, env):
    """`audit.hold_head` lasts one transaction: after a commit the append locks the head itself."""
    from benchmarks.sqlcount import count_queries
    from vendorcheck import audit

    with app.test_request_context():
        audit.record("first", org=env.buyer, email="a@x.example")
        db.session.commit()
        audit.hold_head(env.buyer, 0, audit.GENESIS)  # wrong on purpose, and then committed
        db.session.commit()
        with count_queries(app) as seen:
            audit.record("second", org=env.buyer, email="a@x.example")
        db.session.commit()
        assert any("FROM audit_chain_head" in s and s.lstrip().startswith("SELECT") for s in seen)
        assert audit.verify() == []


@pytest.mark.skipif(not TEST_DB_URL, reason="SQLite has a single writer; PostgreSQL only")
def test_the_locked_load_waits_for_another_save_of_the_same_assessment_only(app, env):
    """While one transaction holds an assessment's save turn, loading it for a save waits (a lock
    timeout tells), and another assessment's save does not."""
    with app.test_request_context():
        assert svc.take_save_turn(env.a, None) is not None  # uncommitted: the turn is held
        with app.app_context():  # a second app context: its own session and connection
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
            assert svc.take_save_turn(env.other, None) is not None
            db.session.rollback()
            db.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                svc.take_save_turn(env.a, None)
            db.session.rollback()
        db.session.rollback()


def _vendor_orgs(env) -> tuple[int, int]:
    """The vendor organisation of the env's assessment, and the other vendor's."""
    own = db.session.get(Assessment, env.a).vendor_org_id
    other = db.session.get(Assessment, env.other).vendor_org_id
    db.session.rollback()
    return own, other


def test_the_locked_load_finds_only_an_assessment_sent_to_the_organisation(app, env):
    with app.test_request_context():
        own, other = _vendor_orgs(env)
        assert svc.take_save_turn(env.a, other) is None
        db.session.rollback()
        assert svc.take_save_turn(env.a, own) is not None
        db.session.rollback()


@pytest.mark.skipif(not TEST_DB_URL, reason="SQLite has a single writer; PostgreSQL only")
def test_another_tenant_cannot_hold_an_assessments_save_turn(app, env):
    """A forged autosave by another vendor organisation locks nothing: the owner's save does not wait."""
    with app.test_request_context():
        own, other = _vendor_orgs(env)
        assert svc.take_save_turn(env.a, other) is None  # its transaction stays open
        with app.app_context():  # a second app context: its own session and connection
            db.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            assert svc.take_save_turn(env.a, own) is not None
            db.session.rollback()
        db.session.rollback()


def test_another_vendor_organisations_autosave_is_refused_and_changes_nothing(client, login_as, env, app):
    before = _answers(app, env.a)
    login_as(env.other_user)
    assert _autosave(client, env.a, "notes", "forged").status_code == 404
    assert _answers(app, env.a) == before


@pytest.mark.parametrize(("item", "value", "needle"), [
    ("q999", "yes", "Unknown item"),
    ("has_dpa", "maybe", "'maybe' is not one of yes, no"),
    ("hours", "-5", "finite number"),
    ("notes", "a\u0000b", "invalid control character"),
    ("notes", "x" * 10001, "max 10,000 characters"),
])
def test_autosave_refuses_bad_values_with_422(client, login_as, env, item, value, needle):
    login_as(env.vuser)
    response = _autosave(client, env.a, item, value)
    assert response.status_code == 422
    assert needle in str(response.get_json())


# Numbers no float can hold (JSON allows them), and the non-finite spellings: a 422, never a 500.
@pytest.mark.parametrize("raw", [
    pytest.param("1" + "0" * 400, id="10**400"), pytest.param("-1" + "0" * 400, id="-10**400"),
    "1e400", "-1e400", "NaN", "Infinity", "-Infinity", '"1e400"', '"-1e400"', '"NaN"', '"Infinity"',
])
def test_autosave_refuses_numbers_out_of_range_and_keeps_the_answer(app, client, login_as, env, raw):
    login_as(env.vuser)
    assert _autosave(client, env.a, "hours", "12").status_code == 200
    response = client.post(f"/vendor/assessments/{env.a}/autosave", content_type="application/json",
                           data=f'{{"item_id": "hours", "value": {raw}, "version": 1}}')
    assert response.status_code == 422
    assert "must be a finite number" in response.get_json()["problems"]["hours"]
    assert _answers(app, env.a)["hours"] == 12


@pytest.mark.parametrize("raw", ["1" + "0" * 400, "1e400", "-1e400", "NaN", "Infinity"])
def test_section_form_refuses_numbers_out_of_range(app, client, login_as, env, raw):
    login_as(env.vuser)
    response = client.post(f"/vendor/assessments/{env.a}/sections/main",
                           data={"hours": raw, "hours__version": ""})
    assert response.status_code == 422
    assert "must be a finite number" in response.get_data(as_text=True)
    assert "hours" not in _answers(app, env.a)


# A version the client states must be a whole number ≥ 0; null (or no key) means "not said".
@pytest.mark.parametrize("version", [-1, "-1", 1.5, "1.5", True, "abc", "²", [1], {"v": 1},
                                     "9" * 5000, 10**30])
def test_autosave_refuses_a_version_that_is_not_a_whole_number(app, client, login_as, env, version):
    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "first").status_code == 200
    response = _autosave(client, env.a, "notes", "overwrite", version=version)
    assert response.status_code == 422
    assert "version" in response.get_json()["problems"]
    assert _answers(app, env.a)["notes"] == "first"


def test_autosave_refuses_a_negative_version_on_a_first_answer(app, client, login_as, env):
    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "x", version=-1).status_code == 422
    assert _answers(app, env.a) == {}


@pytest.mark.parametrize("version", [2, 7, "7"])
def test_autosave_with_a_version_ahead_of_the_stored_one_is_a_conflict(app, client, login_as, env,
                                                                        version):
    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "first").status_code == 200
    response = _autosave(client, env.a, "notes", "from the future", version=version)
    assert response.status_code == 409 and response.get_json()["current"] == "first"
    assert _answers(app, env.a)["notes"] == "first"


@pytest.mark.parametrize("version", ["-1", "abc", "1.5", "²"])
def test_section_form_refuses_a_version_that_is_not_a_whole_number(app, client, login_as, env,
                                                                    version):
    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "first").status_code == 200
    response = client.post(f"/vendor/assessments/{env.a}/sections/main",
                           data={"notes": "overwrite", "notes__version": version})
    assert response.status_code == 422
    assert "not a valid answer version" in response.get_data(as_text=True)
    assert _answers(app, env.a)["notes"] == "first"


def test_other_tenant_ids_answer_404(app, client, login_as, env):
    login_as(env.other_user)
    for path in (f"/vendor/assessments/{env.a}", f"/vendor/assessments/{env.a}/sections/main",
                 f"/vendor/assessments/{env.a}/submit", f"/vendor/assessments/{env.a}/copy"):
        assert client.get(path).status_code == 404, path
    assert _autosave(client, env.a, "has_dpa", "yes").status_code == 404
    assert _answers(app, env.a) == {}


def test_submit_is_blocked_with_missing_list_then_read_only(app, client, login_as, env):
    login_as(env.vuser)
    blocked = client.get(f"/vendor/assessments/{env.a}/submit")
    html = blocked.get_data(as_text=True)
    assert "cannot submit yet" in html and "#q-has_dpa" in html and "#q-uses_sub" in html
    refused = client.post(f"/vendor/assessments/{env.a}/submit",
                          data={"name": "Marie", "role": "DPO", "statement": "True"})
    assert refused.status_code == 422
    for item, value in COMPLETE.items():
        assert _autosave(client, env.a, item, value).status_code == 200
    done = client.post(f"/vendor/assessments/{env.a}/submit",
                       data={"name": "Marie Dupont", "role": "DPO", "statement": "All true"})
    assert done.status_code == 302
    with app.app_context():
        a = db.session.get(Assessment, env.a)
        assert a.status is AssessmentStatus.SUBMITTED and a.attestation.role == "DPO"
    later = _autosave(client, env.a, "notes", "too late")
    assert later.status_code == 409 and "reopen" in later.get_json()["message"]
    section = client.post(f"/vendor/assessments/{env.a}/sections/main", data={"notes": "late"})
    assert section.status_code == 409
    assert "notes" not in _answers(app, env.a)
    assert any(m.template == "assessment_submitted" for m in outbox(app))


def test_open_clarification_keeps_its_item_editable(app, client, login_as, env):
    with app.app_context():
        a = db.session.get(Assessment, env.a)
        a.status, a.submitted_at = AssessmentStatus.CLARIFICATION_REQUESTED, a.sent_at
        db.session.commit()
        clar = make_clarification(a, "notes", "Tell us more")
        clar_id = clar.id
    login_as(env.vuser)
    assert _autosave(client, env.a, "notes", "more detail").status_code == 200
    assert _autosave(client, env.a, "hours", "3").status_code == 409
    answered = client.post(f"/vendor/assessments/{env.a}/clarifications/{clar_id}",
                           data={"answer": "Here is more"})
    assert answered.status_code == 302
    with app.app_context():
        a = db.session.get(Assessment, env.a)
        assert a.status is AssessmentStatus.IN_REVIEW
        assert a.clarifications[0].answer == "Here is more"


def test_copy_answers_from_own_previous_submission_only(app, client, login_as, env):
    with app.app_context():
        from vendorcheck.models import Organisation, Vendor

        previous = make_assessment(db.session.get(Organisation, env.buyer2),
                                   db.session.get(Vendor, env.vendor_b2),
                                   answers={**COMPLETE, "notes": "from before"},
                                   status=AssessmentStatus.SUBMITTED, submitted=True)
        previous_id = previous.id
    login_as(env.vuser)
    page = client.get(f"/vendor/assessments/{env.a}/copy")
    assert page.status_code == 200 and "Buyer Two" in page.get_data(as_text=True)
    assert client.post(f"/vendor/assessments/{env.a}/copy",
                       data={"previous_id": str(env.other)}).status_code == 404
    assert _answers(app, env.a) == {}
    copied = client.post(f"/vendor/assessments/{env.a}/copy", data={"previous_id": previous_id})
    assert copied.status_code == 302
    assert _answers(app, env.a)["notes"] == "from before"
    with app.app_context():
        rows = db.session.scalars(select(Answer).where(Answer.assessment_id == env.a)).all()
        assert all(r.needs_reconfirmation for r in rows)


def test_send_assessment_pins_version_and_mails(app, env):
    from vendorcheck.models import Contact, Organisation, User, Vendor
    from vendorcheck.services.assessments import send_assessment

    with app.test_request_context():
        vendor = db.session.get(Vendor, env.vendor)
        known = db.session.scalars(select(Contact).where(Contact.vendor_id == vendor.id)).one()
        unknown = make_contact(vendor, "newbie@vendor.example", "Newbie")
        q = install_questionnaire()
        a = send_assessment(db.session.get(Organisation, env.buyer), vendor, q,
                            due_date=None, contacts=[known, unknown], message="Hi",
                            by=db.session.get(User, env.admin.id))
        assert (a.questionnaire_version, a.questionnaire_sha256) == (q.version, q.sha256)
    templates = sorted(m.template for m in outbox(app))
    assert templates == ["assessment_sent", "vendor_invitation"]


def test_reminders_run_daily_on_rq_once_a_day_and_reschedule_themselves(app, runner, env,
                                                                        monkeypatch):
    from datetime import UTC, datetime

    from fakeredis import FakeRedis
    from rq import Queue

    from vendorcheck.services import reminders

    queue = Queue("reminders", connection=FakeRedis())
    monkeypatch.setitem(app.extensions, "vendorcheck_reminders_queue", queue)
    monkeypatch.setitem(app.config, "REMINDERS_AT", "06:30")
    first = runner.invoke(args=["reminders", "schedule"])
    assert first.exit_code == 0, first.output
    assert "Scheduled the daily reminders at" in first.output and "06:30 UTC" in first.output
    again = runner.invoke(args=["reminders", "schedule"])
    assert again.exit_code == 0 and "Already scheduled" in again.output
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    job = queue.fetch_job(job_id)
    day = datetime.strptime(job_id.removeprefix("vendorcheck-reminders-"), "%Y-%m-%d")
    when = day.replace(hour=6, minute=30, second=1, tzinfo=UTC)  # as the worker runs it
    monkeypatch.setattr(reminders, "utcnow", lambda: when)
    with app.app_context():
        counts = job.func()  # what the RQ worker calls at 06:30
    assert counts == {"reminders": 1, "expired": 0, "renewals": 0, "waivers_expired": 0,
                      "remediation_reminders": 0}
    assert [m.template for m in outbox(app)] == ["assessment_before_7"]
    tomorrow = f"vendorcheck-reminders-{(day + timedelta(days=1)):%Y-%m-%d}"
    assert sorted(queue.scheduled_job_registry.get_job_ids()) == sorted([job_id, tomorrow])


def test_reminders_schedule_explains_what_is_missing(app, runner, env, monkeypatch):
    result = runner.invoke(args=["reminders", "schedule"])
    assert result.exit_code == 1 and "Redis is not configured" in result.output
    assert "vendorcheck reminders send" in result.output
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    result = runner.invoke(args=["reminders", "schedule"])
    assert result.exit_code == 1 and "Could not reach Redis" in result.output
    assert "Traceback" not in result.output


def test_reminders_are_sent_once_and_overdue_expire(app, runner, env):
    with app.app_context():
        from vendorcheck.models import Organisation, Vendor

        late = make_assessment(db.session.get(Organisation, env.buyer),
                               db.session.get(Vendor, env.vendor),
                               due_date=date.today() - timedelta(days=31))
        late_id = late.id
    for _ in range(2):
        result = runner.invoke(args=["reminders", "send"])
        assert result.exit_code == 0, result.output
    sent = [m.template for m in outbox(app)]
    assert sent == ["assessment_before_7"]
    tomorrow = (date.today() + timedelta(days=6)).isoformat()
    runner.invoke(args=["reminders", "send", "--today", tomorrow])
    runner.invoke(args=["reminders", "send", "--today", tomorrow])
    overdue = (date.today() + timedelta(days=8)).isoformat()
    runner.invoke(args=["reminders", "send", "--today", overdue])
    runner.invoke(args=["reminders", "send", "--today", overdue])
    assert [m.template for m in outbox(app)] == [
        "assessment_before_7", "assessment_before_1", "assessment_overdue_1"]
    with app.app_context():
        assert db.session.get(Assessment, late_id).status is AssessmentStatus.EXPIRED
