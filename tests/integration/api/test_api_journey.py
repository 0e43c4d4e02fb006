"""The API client journey, equal to the browser's: create a vendor, send, the vendor answers and
submits through the API, the buyer reads the results, clarifies, decides, and the remediation loop;
and the answer write's conflict rules."""

from __future__ import annotations

from tests.factories.assessments import make_assessment
from tests.factories.questionnaires import COMPLETE, QID, QVERSION, install_questionnaire
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Vendor


def _send(app, api, world) -> int:
    """Create a vendor and a contact, send the test questionnaire through the API; return its id."""
    with app.app_context():
        install_questionnaire()
    listed = api("a.assessor", "GET", "/questionnaires", scope="read").get_json()["items"]
    assert {"id": QID, "version": QVERSION} in [{"id": q["id"], "version": q["version"]} for q in listed]
    version = api("a.assessor", "GET", f"/questionnaires/{QID}/{QVERSION}", scope="read").get_json()
    assert "has_dpa" in [i["id"] for s in version["sections"] for i in s["items"]]

    vendor = api("a.assessor", "POST", "/vendors", json={"legal_name": "Journey SAS"}).get_json()
    with app.app_context():  # the vendor answers from its organisation (as after accepting the invitation)
        db.session.get_one(Vendor, vendor["id"]).vendor_org_id = world["a"].vendor_org.id
        db.session.commit()
    invited = api("a.assessor", "POST", f"/vendors/{vendor['id']}/contacts",
                  json={"name": "Contact A", "email": "contact@vendor-a.example"})
    contact_id = api("a.assessor", "GET", f"/vendors/{vendor['id']}/contacts",
                     scope="read").get_json()[0]["id"]
    assert invited.status_code == 201
    sent = api("a.assessor", "POST", "/assessments", json={
        "vendor_id": vendor["id"], "questionnaire_id": QID, "questionnaire_version": QVERSION,
        "contact_ids": [contact_id], "due_date": "2031-01-31", "message": "Please answer"},
        headers={"Idempotency-Key": "send-1"})
    assert sent.status_code == 201, sent.get_json()
    assessment_id = sent.get_json()["id"]
    assert sent.get_json()["status"] == "sent"
    return assessment_id


def _answer_and_submit(api, assessment_id: int, answers: dict[str, str]) -> None:
    """The vendor finds the assessment, writes each answer and submits with the attestation."""
    inbox = api("a.vendor", "GET", "/vendor/assessments", scope="read").get_json()["items"]
    assert assessment_id in [a["id"] for a in inbox]
    for item_id, value in answers.items():
        saved = api("a.vendor", "PUT", f"/vendor/assessments/{assessment_id}/answers/{item_id}",
                    json={"value": value, "version": 0})
        assert saved.status_code == 200 and saved.get_json()["version"] == 1, saved.get_json()
    submitted = api("a.vendor", "POST", f"/vendor/assessments/{assessment_id}/submit",
                    json={"name": "Contact A", "role": "DPO", "statement": "Complete and true."})
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"


def test_send_answer_submit_and_read_results(app, api, world):
    assessment_id = _send(app, api, world)
    _answer_and_submit(api, assessment_id, COMPLETE)

    listed = api("a.legal", "GET", "/assessments?status=submitted", scope="read").get_json()["items"]
    assert [a["id"] for a in listed] == [assessment_id]
    result = api("a.legal", "GET", f"/assessments/{assessment_id}", scope="read").get_json()
    assert result["tier"] == "low" and result["score"] is not None and result["due_date"] == "2031-01-31"
    assert {a["item_id"]: a["value"] for a in result["answers"]} == COMPLETE


def test_the_whole_review_journey_through_the_api(app, api, world):
    """As tests/integration/test_review_journey.py in the browser, then the remediation loop:
    send, answer, submit, clarify, decide with a remediation request, the vendor fixes, the buyer accepts."""
    assessment_id = _send(app, api, world)
    _answer_and_submit(api, assessment_id, {**COMPLETE, "has_dpa": "no"})
    path = f"/assessments/{assessment_id}"
    result = api("a.assessor", "GET", path, scope="read").get_json()
    assert result["tier"] == "high" and [f["finding_id"] for f in result["findings"]] == ["no_dpa"]

    # the buyer asks about an answer; the vendor replies, which puts the assessment back in review
    asked = api("a.assessor", "POST", f"{path}/clarifications",
                json={"item_id": "audits", "question": "Which audits, and how often?"})
    assert asked.status_code == 201, asked.get_json()
    vendor_path = f"/vendor{path}"
    [question] = api("a.vendor", "GET", f"{vendor_path}/clarifications", scope="read").get_json()["items"]
    assert question["question"] == "Which audits, and how often?"
    replied = api("a.vendor", "POST", f"{vendor_path}/clarifications/{question['id']}/answer",
                  json={"answer": "One on-site audit a year."})
    assert replied.status_code == 200 and replied.get_json()["state"] == "answered"

    # the decision: approving with the high finding open needs a reason, as on the web
    before = api("a.assessor", "GET", f"{path}/decision", scope="read").get_json()
    assert before["status"] == "in_review" and before["open_serious_findings"] == ["no_dpa"]
    conditions = {"decision": "approved_with_conditions", "comment": "Sign the DPA within a month."}
    assert api("a.assessor", "POST", f"{path}/decision", json=conditions).status_code == 422
    decided = api("a.assessor", "POST", f"{path}/decision",
                  json={**conditions, "reason": "The DPA is being signed."})
    assert decided.status_code == 201 and decided.get_json()["decision"] == "approved_with_conditions"

    # ... with the open finding sent to the vendor as a remediation request
    requested = api("a.assessor", "POST", f"{path}/remediation",
                    json={"finding_id": "no_dpa", "due_date": "2031-02-28", "note": "Send the signed DPA."})
    assert requested.status_code == 201, requested.get_json()
    request_id = requested.get_json()["id"]
    [open_request] = api("a.vendor", "GET", f"{vendor_path}/remediation", scope="read").get_json()["items"]
    assert open_request["id"] == request_id and open_request["note"] == "Send the signed DPA."
    fixed = api("a.vendor", "POST", f"{vendor_path}/remediation/{request_id}/respond",
                json={"kind": "fix", "text": "Signed on both sides, see the contract register."})
    assert fixed.status_code == 200 and fixed.get_json()["state"] == "responded"
    accepted = api("a.assessor", "POST", f"{path}/remediation/{request_id}/review",
                   json={"outcome": "accept", "reason": "Checked the signed copy."})
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "accepted"

    final = api("a.legal", "GET", path, scope="read").get_json()
    assert final["status"] == "decided" and final["open_findings"] == 0
    assert [(f["finding_id"], f["state"]) for f in final["findings"]] == [("no_dpa", "remediated")]


def _sent(app, world):
    with app.app_context():
        buyer = db.session.get_one(Organisation, world["a"].buyer.id)
        vendor = db.session.get_one(Vendor, world["a"].vendor.id)
        return make_assessment(buyer, vendor).id


def test_an_answer_write_checks_the_value_and_the_version_like_autosave(app, api, world):
    assessment_id = _sent(app, world)
    path = f"/vendor/assessments/{assessment_id}/answers"
    assert api("a.vendor", "PUT", f"{path}/has_dpa", json={"value": "yes", "version": 0}).status_code == 200

    stale = api("a.vendor", "PUT", f"{path}/has_dpa", json={"value": "no", "version": 0})
    invalid = api("a.vendor", "PUT", f"{path}/has_dpa", json={"value": "maybe", "version": 1})
    unknown = api("a.vendor", "PUT", f"{path}/nope", json={"value": "yes", "version": 0})
    other_tenant = api("b.vendor", "PUT", f"{path}/has_dpa", json={"value": "no", "version": 1})
    buyer = api("a.admin", "PUT", f"{path}/has_dpa", json={"value": "no", "version": 1}, scope="admin")

    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    assert invalid.status_code == 422 and "has_dpa" in invalid.get_json()["error"]["details"]
    assert unknown.status_code == 422
    assert other_tenant.status_code == 404 and buyer.status_code == 403
    read = api("a.vendor", "GET", f"/vendor/assessments/{assessment_id}", scope="read").get_json()
    assert [(a["item_id"], a["value"], a["version"]) for a in read["answers"]] == [("has_dpa", "yes", 1)]


def test_findings_change_state_with_if_match(app, api, world):
    from vendorcheck.models.assessments import FindingRecord

    assessment_id = _sent(app, world)
    with app.app_context():
        finding = FindingRecord(assessment_id=assessment_id, finding_id="no_dpa", severity="high",
                                title={"en": "No DPA"}, refs=[])
        db.session.add(finding)
        db.session.commit()
        finding_id = finding.id
    path = f"/assessments/{assessment_id}/findings/{finding_id}"
    etag = api("a.assessor", "GET", path, scope="read").headers["ETag"]
    changed = api("a.assessor", "PATCH", path, json={"state": "accepted_risk", "due_date": "2031-06-30",
                                                      "comment": "Mitigated by contract"},
                  headers={"If-Match": etag})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["state"] == "accepted_risk" and changed.get_json()["due_date"] == "2031-06-30"
    listed = api("a.legal", "GET", f"/assessments/{assessment_id}/findings", scope="read").get_json()
    assert [f["state"] for f in listed["items"]] == ["accepted_risk"]
