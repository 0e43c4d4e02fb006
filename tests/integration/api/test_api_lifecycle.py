"""An assessment's life through the API: reminders, cancelling, the decision (same rules as the web
form), clarifications, remediation requests, and the webhooks each change emits."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.factories.assessments import make_assessment, make_contact
from tests.factories.webhooks import Receiver, make_endpoint, receiving, verify
from tests.integration.conftest import outbox
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus, FindingRecord


@pytest.fixture
def receiver(app, monkeypatch) -> Iterator[Callable[..., Receiver]]:
    """Start receivers on 127.0.0.1 (private targets allowed, as a test must)."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", True)
    with ExitStack() as stack:
        yield lambda *statuses: stack.enter_context(receiving(*statuses))


def _sent(app, world, *, status: AssessmentStatus = AssessmentStatus.IN_PROGRESS, contact: bool = True,
          due: date | None = None) -> int:
    """An assessment of tenant A with the vendor, sent to one contact (or to none)."""
    with app.app_context():
        vendor = db.session.get_one(Vendor, world["a"].vendor.id)
        person = make_contact(vendor, "dana@vendor-a.example", "Dana") if contact else None
        return make_assessment(db.session.get_one(Organisation, world["a"].buyer.id), vendor, status=status,
                               contact=person, due_date=due).id


def _reminders(app) -> list:
    return [m for m in outbox(app) if m.template == "assessment_reminder_manual"]


def test_a_reminder_is_sent_at_once_at_most_once_a_day(app, api, world):
    due = date.today() + timedelta(days=20)
    assessment_id = _sent(app, world, due=due)
    path = f"/assessments/{assessment_id}/remind"
    assert api("a.assessor", "POST", path, json={"now": True}).status_code == 422  # no field is known
    reminded = api("a.assessor", "POST", path, headers={"Idempotency-Key": "remind-1"})
    assert reminded.status_code == 200, reminded.get_json()
    assert reminded.get_json() == {"assessment_id": assessment_id, "recipients": 1}
    [message] = _reminders(app)
    assert message.to_email == "dana@vendor-a.example" and "Reminder" not in message.subject
    assert str(due.year) in message.body_text and "/vendor/assessments/" in message.body_text
    replayed = api("a.assessor", "POST", path, headers={"Idempotency-Key": "remind-1"})
    assert replayed.headers["Idempotent-Replayed"] == "true"
    again = api("a.admin", "POST", path, json={})
    assert again.status_code == 409 and "a day" in again.get_json()["error"]["message"]
    assert len(_reminders(app)) == 1
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "assessment_reminded")).one()
        assert entry.details["recipients"] == 1 and entry.details["api_token_id"]
    assert api("a.legal", "POST", path, json={}, scope="admin").status_code == 403


def test_only_an_assessment_with_the_vendor_and_a_contact_is_reminded(app, api, world, submitted):
    nobody = _sent(app, world, contact=False)
    for assessment_id in (submitted, nobody):
        refused = api("a.assessor", "POST", f"/assessments/{assessment_id}/remind", json={})
        assert refused.status_code == 409 and refused.get_json()["error"]["message"]
    assert _reminders(app) == []


def test_cancelling_needs_a_reason_and_tells_the_vendor(app, api, world):
    assessment_id = _sent(app, world)
    path = f"/assessments/{assessment_id}/cancel"
    assert api("a.assessor", "POST", path, json={}).status_code == 422
    blank = api("a.assessor", "POST", path, json={"reason": "   "})
    assert blank.status_code == 422 and "reason" in blank.get_json()["error"]["message"]
    assert api("a.legal", "POST", path, json={"reason": "x"}, scope="admin").status_code == 403
    cancelled = api("a.assessor", "POST", path, json={"reason": "The project was stopped."})
    assert cancelled.status_code == 200, cancelled.get_json()
    body = cancelled.get_json()
    assert body["status"] == "cancelled" and body["cancel_reason"] == "The project was stopped."
    assert body["cancelled_at"]
    [message] = [m for m in outbox(app) if m.template == "assessment_cancelled"]
    assert message.to_email == "dana@vendor-a.example" and "The project was stopped." in message.body_text
    twice = api("a.assessor", "POST", path, json={"reason": "Again"})
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "conflict"
    listed = api("a.legal", "GET", "/assessments?status=cancelled", scope="read").get_json()["items"]
    assert [a["id"] for a in listed] == [assessment_id]
    # the vendor sees it cancelled and can no longer answer or be reminded
    seen = api("a.vendor", "GET", f"/vendor/assessments/{assessment_id}", scope="read").get_json()
    assert seen["status"] == "cancelled"
    write = api("a.vendor", "PUT", f"/vendor/assessments/{assessment_id}/answers/has_dpa",
                json={"value": "yes", "version": 0})
    assert write.status_code == 409
    assert api("a.assessor", "POST", f"/assessments/{assessment_id}/remind", json={}).status_code == 409
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "assessment_cancelled")).one()
        assert entry.details["reason"] == "The project was stopped."
        assert entry.details["previous_status"] == "in_progress"


def test_a_cancelled_assessments_clarification_cannot_be_answered(app, api, submitted):
    asked = api("a.assessor", "POST", f"/assessments/{submitted}/clarifications",
                json={"item_id": "vendor_legal_name", "question": "Which entity?"}).get_json()
    cancelled = api("a.assessor", "POST", f"/assessments/{submitted}/cancel", json={"reason": "Stopped"})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    late = api("a.vendor", "POST", f"/vendor/assessments/{submitted}/clarifications/{asked['id']}/answer",
               json={"answer": "Vendor SAS"})
    assert late.status_code == 409 and "no longer" in late.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.get_one(Assessment, submitted).status is AssessmentStatus.CANCELLED


def test_a_decided_assessment_cannot_be_cancelled(app, api, submitted):
    assert _decide(api, submitted, decision="rejected", comment="No").status_code == 201
    refused = api("a.assessor", "POST", f"/assessments/{submitted}/cancel", json={"reason": "Oops"})
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.get_one(Assessment, submitted).status is AssessmentStatus.DECIDED


def _serious(app, assessment_id: int) -> list[str]:
    with app.app_context():
        return sorted(f.finding_id for f in db.session.get_one(Assessment, assessment_id).findings
                      if f.severity in ("critical", "high"))


def _decide(api, assessment_id: int, **body):
    return api("a.assessor", "POST", f"/assessments/{assessment_id}/decision", json=body)


def test_the_decision_follows_the_web_forms_rules(app, api, submitted):
    before = api("a.legal", "GET", f"/assessments/{submitted}/decision", scope="read")
    assert before.status_code == 200 and before.headers["ETag"]
    shown = before.get_json()
    assert shown["decision"] is None and shown["reason_required"] is True
    assert shown["open_serious_findings"] == _serious(app, submitted) != []

    no_reason = _decide(api, submitted, decision="approved")
    no_comment = _decide(api, submitted, decision="rejected")
    past = _decide(api, submitted, decision="rejected", comment="No.", next_review_date="2001-01-01")
    legal = api("a.legal", "POST", f"/assessments/{submitted}/decision", scope="admin",
                json={"decision": "approved", "reason": "Pilot"})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["message"]
    assert no_comment.status_code == 422 and "comment" in no_comment.get_json()["error"]["message"]
    assert past.status_code == 422 and legal.status_code == 403
    with app.app_context():
        assert db.session.get_one(Assessment, submitted).decision is None  # nothing was recorded

    decided = _decide(api, submitted, decision="approved_with_conditions", comment="Enable MFA.",
                      reason="Pilot only, no personal data yet.")
    assert decided.status_code == 201, decided.get_json()
    body = decided.get_json()
    assert body["decision"] == "approved_with_conditions" and body["status"] == "decided"
    assert body["comment"] == "Enable MFA." and body["next_review_date"] == body["default_next_review_date"]
    again = _decide(api, submitted, decision="rejected", comment="Changed my mind")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    read = api("a.legal", "GET", f"/assessments/{submitted}/decision", scope="read").get_json()
    assert read["decision"] == "approved_with_conditions" and read["decided_at"]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "assessment_decided")).one()
        assert entry.details["reason"] == "Pilot only, no personal data yet."
        assert entry.details["api_token_id"]


def test_a_decision_through_the_api_is_sent_as_a_webhook(app, api, world, submitted, receiver):
    rec = receiver()
    with app.app_context():
        _endpoint, secret = make_endpoint(world["a"].buyer.id, url=rec.url,
                                          events=["assessment.decided", "finding.changed"])
    next_review = (date.today() + timedelta(days=90)).isoformat()
    assert _decide(api, submitted, decision="rejected", comment="Too risky",
                   next_review_date=next_review).status_code == 201
    [(headers, body)] = rec.requests
    assert verify(secret, headers, body)
    event = json.loads(body)
    assert event["type"] == "assessment.decided" and event["data"]["decision"] == "rejected"
    assert event["data"]["next_review_date"] == next_review


def test_a_finding_changed_through_the_api_is_sent_as_a_webhook(app, api, world, submitted, receiver):
    rec = receiver()
    with app.app_context():
        make_endpoint(world["a"].buyer.id, url=rec.url, events=["finding.changed"])
        record = db.session.scalars(select(FindingRecord).where(
            FindingRecord.assessment_id == submitted).order_by(FindingRecord.id)).first()
        path = f"/assessments/{submitted}/findings/{record.id}"
        finding_id = record.finding_id
    etag = api("a.assessor", "GET", path, scope="read").headers["ETag"]
    changed = api("a.assessor", "PATCH", path, json={"state": "accepted_risk", "due_date": "2031-06-30"},
                  headers={"If-Match": etag})
    assert changed.status_code == 200, changed.get_json()
    [event] = rec.payloads()
    assert event["type"] == "finding.changed" and event["data"]["finding_id"] == finding_id
    assert event["data"]["state"] == "accepted_risk" and event["data"]["due_date"] == "2031-06-30"


def test_clarifications_are_asked_and_answered(app, api, submitted):
    path = f"/assessments/{submitted}/clarifications"
    unknown_item = api("a.assessor", "POST", path, json={"item_id": "nope", "question": "?"})
    assert unknown_item.status_code == 422
    question = {"item_id": "vendor_legal_name", "question": "Which entity signs?"}
    asked = api("a.assessor", "POST", path, json=question, headers={"Idempotency-Key": "clarify-1"})
    assert asked.status_code == 201, asked.get_json()
    replayed = api("a.assessor", "POST", path, json=question, headers={"Idempotency-Key": "clarify-1"})
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.get_json() == asked.get_json()
    clarification = asked.get_json()
    assert clarification["state"] == "open" and clarification["answer"] is None

    decision = api("a.legal", "GET", f"/assessments/{submitted}/decision", scope="read").get_json()
    assert decision["status"] == "clarification_requested"
    assert decision["open_clarifications"] == [clarification["id"]]
    waiting = _decide(api, submitted, decision="rejected", comment="No")
    assert waiting.status_code == 409 and "clarification" in waiting.get_json()["error"]["message"]

    inbox = api("a.vendor", "GET", f"/vendor/assessments/{submitted}/clarifications", scope="read")
    assert [c["id"] for c in inbox.get_json()["items"]] == [clarification["id"]]
    answer_path = f"/vendor/assessments/{submitted}/clarifications/{clarification['id']}/answer"
    empty = api("a.vendor", "POST", answer_path, json={"answer": "   "})
    assert empty.status_code == 422
    answered = api("a.vendor", "POST", answer_path, json={"answer": "Signed on 2024-03-01."})
    assert answered.status_code == 200 and answered.get_json()["state"] == "answered"
    twice = api("a.vendor", "POST", answer_path, json={"answer": "Again"})
    assert twice.status_code == 409
    listed = api("a.legal", "GET", path, scope="read").get_json()
    assert listed["next_cursor"] is None
    assert [c["answer"] for c in listed["items"]] == ["Signed on 2024-03-01."]
    with app.app_context():
        assert db.session.get_one(Assessment, submitted).status is AssessmentStatus.IN_REVIEW


def test_clarification_lists_are_pages(app, api, submitted):
    path = f"/assessments/{submitted}/clarifications"
    for item in ("vendor_legal_name", "dpa_signed", "vendor_legal_name"):
        assert api("a.assessor", "POST", path, json={"item_id": item, "question": "Why?"}).status_code == 201
    first = api("a.legal", "GET", f"{path}?limit=2", scope="read").get_json()
    second = api("a.legal", "GET", f"{path}?limit=2&cursor={first['next_cursor']}", scope="read").get_json()
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert len(ids) == 3 == len(set(ids)) and ids == sorted(ids) and second["next_cursor"] is None
    assert api("a.legal", "GET", f"{path}?sort=created_at", scope="read").status_code == 422


def _decided_with_open_finding(app, api, submitted) -> str:
    assert _decide(api, submitted, decision="rejected", comment="Fix first").status_code == 201
    return _serious(app, submitted)[0]


def test_the_remediation_loop_emits_its_webhooks(app, api, world, submitted, receiver):
    rec = receiver()
    with app.app_context():
        _endpoint, secret = make_endpoint(world["a"].buyer.id, url=rec.url,
                                          events=["remediation.updated", "finding.changed"])
    finding_id = _decided_with_open_finding(app, api, submitted)
    path = f"/assessments/{submitted}/remediation"
    due = (date.today() + timedelta(days=30)).isoformat()

    created = api("a.assessor", "POST", path, json={"finding_id": finding_id, "due_date": due,
                                                    "note": "Please enable MFA."})
    assert created.status_code == 201, created.get_json()
    request = created.get_json()
    assert request["state"] == "requested" and request["finding_id"] == finding_id
    assert [e["action"] for e in request["events"]] == ["requested"]
    twice = api("a.assessor", "POST", path, json={"finding_id": finding_id})
    assert twice.status_code == 409

    vendor_list = api("a.vendor", "GET", f"/vendor/assessments/{submitted}/remediation", scope="read")
    assert [r["id"] for r in vendor_list.get_json()["items"]] == [request["id"]]
    respond = f"/vendor/assessments/{submitted}/remediation/{request['id']}/respond"
    assert api("a.vendor", "POST", respond, json={"kind": "fix", "text": " "}).status_code == 422
    answered = api("a.vendor", "POST", respond, json={"kind": "fix", "text": "MFA is on for every admin."})
    assert answered.status_code == 200 and answered.get_json()["state"] == "responded"

    review = f"{path}/{request['id']}/review"
    no_reason = api("a.assessor", "POST", review, json={"outcome": "accept", "reason": ""})
    assert no_reason.status_code == 422
    accepted = api("a.assessor", "POST", review, json={"outcome": "accept", "reason": "Checked the console."})
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "accepted"
    one = api("a.legal", "GET", f"{path}/{request['id']}", scope="read")
    assert one.headers["ETag"] and [e["action"] for e in one.get_json()["events"]] == [
        "requested", "responded", "accepted"]

    events = [(p["type"], p["data"].get("state")) for p in rec.payloads()]
    assert events == [("remediation.updated", "requested"), ("finding.changed", "open"),
                      ("remediation.updated", "responded"), ("finding.changed", "vendor_responded"),
                      ("remediation.updated", "accepted"), ("finding.changed", "remediated")]
    assert all(verify(secret, headers, body) for headers, body in rec.requests)
    last = rec.payloads()[4]["data"]
    assert last["remediation_id"] == request["id"] and last["action"] == "accepted"
    assert last["side"] == "buyer" and last["finding_id"] == finding_id
    assert last["url"].endswith(f"/buyer/assessments/{submitted}#remediation-{request['id']}")
    assert all(b"@" not in body for _headers, body in rec.requests)


def test_a_waiver_is_asked_and_granted(app, api, submitted):
    finding_id = _decided_with_open_finding(app, api, submitted)
    path = f"/assessments/{submitted}/remediation"
    request = api("a.assessor", "POST", path, json={"finding_id": finding_id}).get_json()
    early = api("a.assessor", "POST", f"{path}/{request['id']}/review",
                json={"outcome": "accept", "reason": "Too early"})
    assert early.status_code == 409
    asked = api("a.vendor", "POST", f"/vendor/assessments/{submitted}/remediation/{request['id']}/respond",
                json={"kind": "waiver", "text": "Compensating control: VPN only."})
    assert asked.get_json()["state"] == "waiver_requested"
    expires = (date.today() + timedelta(days=180)).isoformat()
    waived = api("a.assessor", "POST", f"{path}/{request['id']}/review",
                 json={"outcome": "waive", "reason": "Accepted for six months", "waiver_expires": expires})
    assert waived.status_code == 200 and waived.get_json()["waiver_expires"] == expires
    with app.app_context():
        record = db.session.scalars(select(FindingRecord).where(
            FindingRecord.assessment_id == submitted, FindingRecord.finding_id == finding_id)).one()
        assert record.state.value == "accepted_risk"


def test_a_fix_may_carry_an_evidence_file_as_multipart(app, api, submitted):
    import io

    finding_id = _decided_with_open_finding(app, api, submitted)
    request = api("a.assessor", "POST", f"/assessments/{submitted}/remediation",
                  json={"finding_id": finding_id}).get_json()
    respond = f"/vendor/assessments/{submitted}/remediation/{request['id']}/respond"

    def multipart(**fields):
        return api("a.vendor", "POST", respond, data=fields, content_type="multipart/form-data")

    waiver_file = multipart(kind="waiver", text="Accept it", file=(io.BytesIO(b"note\n"), "note.txt"))
    unknown = multipart(kind="fix", text="Done", colour="blue")
    other_file = multipart(kind="fix", text="Done", proof=(io.BytesIO(b"note\n"), "note.txt"))
    program = multipart(kind="fix", text="Done", file=(io.BytesIO(b"MZ\x90\x00" + bytes(200)), "fix.exe"))
    assert waiver_file.status_code == 422 and "file" in waiver_file.get_json()["error"]["message"]
    assert unknown.status_code == 422 and "colour" in unknown.get_json()["error"]["details"]["form"]
    assert other_file.status_code == 422 and "proof" in other_file.get_json()["error"]["details"]["form"]
    assert program.status_code == 422
    def send(text="MFA is on, see the export."):  # a new multipart boundary at every send
        return api("a.vendor", "POST", respond, content_type="multipart/form-data",
                   headers={"Idempotency-Key": "respond-1"},
                   data={"kind": "fix", "text": text,
                         "file": (io.BytesIO(b"user,mfa\nadmin,on\n"), "mfa.csv")})

    fixed = send()
    assert fixed.status_code == 200, fixed.get_json()
    retried = send()  # a retry after a timeout gets the first answer, not "already answered"
    assert retried.status_code == 200 and retried.headers["Idempotent-Replayed"] == "true"
    assert retried.get_json() == fixed.get_json()
    assert send("Something else").status_code == 422  # the same key with another body
    last = fixed.get_json()["events"][-1]
    assert last["action"] == "responded" and last["file_name"] == "mfa.csv" and len(last["sha256"]) == 64
    with app.app_context():
        from vendorcheck.models.remediation import RemediationEvent
        from vendorcheck.storage import Area, current_store

        event = db.session.get_one(RemediationEvent, last["id"])
        with current_store().open(Area.EVIDENCE, event.storage_key) as stored:
            assert stored.read() == b"user,mfa\nadmin,on\n"
    # the buyer sees the file in the request's history (and downloads it on the web page)
    assert api("a.assessor", "GET", f"/assessments/{submitted}/remediation/{request['id']}",
               scope="read").get_json()["events"][-1]["file_name"] == "mfa.csv"


def test_remediation_needs_a_decided_assessment(api, submitted, app):
    response = api("a.assessor", "POST", f"/assessments/{submitted}/remediation",
                   json={"finding_id": _serious(app, submitted)[0]})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"


def test_an_assessment_says_when_its_results_were_computed(app, api, world):
    assessment_id = _sent(app, world)
    with app.app_context():
        db.session.get_one(Assessment, assessment_id).results_stale = True
        db.session.commit()
    body = api("a.legal", "GET", f"/assessments/{assessment_id}", scope="read").get_json()
    assert body["results_stale"] is False and body["results_computed_at"]  # reading one re-scores it
    listed = api("a.legal", "GET", "/assessments", scope="read").get_json()["items"]
    assert {"results_stale", "results_computed_at"} <= set(listed[0])
