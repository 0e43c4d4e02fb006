"""The events an organisation can subscribe to, and the JSON each one carries (docs/webhooks.md).

Every payload is `{"type", "timestamp", "data"}` (the Standard Webhooks shape). `data` holds ids,
states, dates and a link to the resource: what the receiving organisation sees on its own pages,
and no person's name or e-mail address.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import has_request_context
from flask_babel import lazy_gettext as _l

from vendorcheck import mail
from vendorcheck.models import utcnow
from vendorcheck.models.assessments import Assessment, FindingRecord
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.models.dpa_changes import DpaChangeProposal
from vendorcheck.models.remediation import RemediationRequest

TEST_EVENT = "webhook.test"

# Event type → what it means, as offered on the endpoint form.
EVENTS: dict[str, Any] = {
    "assessment.sent": _l("An assessment was sent to a vendor"),
    "assessment.submitted": _l("A vendor submitted an assessment"),
    "assessment.decided": _l("A decision was recorded on an assessment"),
    "finding.changed": _l("A finding's state or due date changed"),
    "remediation.updated": _l("A remediation request was requested, answered or reviewed"),
    "dpa.published": _l("A DPA version was published"),
    "subprocessor.changed": _l("A change of sub-processors was proposed, withdrawn or applied"),
}


def envelope(event_type: str, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Wrap an event's data: its type, when it happened (UTC, ISO 8601) and the data."""
    return {"type": event_type, "timestamp": _iso(now or utcnow()), "data": data}


def _iso(value: date | datetime | None) -> str | None:
    """Return a date or time as ISO 8601 (UTC times end in Z), or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _link(endpoint: str, **values: Any) -> str:
    """Return an absolute link built from BASE_URL (also outside a request: workers, commands)."""
    if has_request_context():
        return mail.external_url(endpoint, **values)
    from flask import current_app

    with current_app.test_request_context("/"):
        return mail.external_url(endpoint, **values)


def assessment_data(assessment: Assessment) -> dict[str, Any]:
    """Return an assessment as the buyer's endpoints receive it."""
    return {
        "assessment_id": assessment.id,
        "status": assessment.status.value,
        "vendor_id": assessment.vendor_id,
        "vendor_name": assessment.vendor.legal_name,
        "questionnaire": {"id": assessment.questionnaire_id,
                          "version": assessment.questionnaire_version},
        "due_date": _iso(assessment.due_date),
        "sent_at": _iso(assessment.sent_at),
        "submitted_at": _iso(assessment.submitted_at),
        "decided_at": _iso(assessment.decided_at),
        "decision": assessment.decision.value if assessment.decision else None,
        "next_review_date": _iso(assessment.next_review_date),
        "url": _link("buyer.assessment", assessment_id=assessment.id),
    }


def finding_data(assessment: Assessment, record: FindingRecord) -> dict[str, Any]:
    """Return a finding of an assessment as the buyer's endpoints receive it."""
    return {
        "assessment_id": assessment.id,
        "vendor_id": assessment.vendor_id,
        "finding_id": record.finding_id,
        "source": record.source,
        "severity": record.severity,
        "state": record.state.value,
        "due_date": _iso(record.due_date),
        "url": _link("buyer.assessment", assessment_id=assessment.id),
    }


def remediation_data(request: RemediationRequest) -> dict[str, Any]:
    """Return a remediation request after a step, as the buyer's endpoints receive it."""
    assessment, last = request.assessment, request.events[-1] if request.events else None
    return {
        "remediation_id": request.id,
        "assessment_id": assessment.id,
        "vendor_id": assessment.vendor_id,
        "finding_id": request.finding.finding_id,
        "state": request.state.value,
        "action": last.action.value if last else None,
        "side": last.side if last else None,
        "due_date": _iso(request.due_date),
        "waiver_expires": _iso(request.waiver_expires),
        "has_file": bool(last and last.storage_key),
        "updated_at": _iso(request.updated_at),
        "url": _link("buyer.assessment", assessment_id=assessment.id,
                     _anchor=f"remediation-{request.id}"),
    }


def dpa_version_data(version: DpaVersion) -> dict[str, Any]:
    """Return a published DPA version (public information)."""
    slug = version.profile.slug
    return {
        "dpa_version_id": version.id,
        "slug": slug,
        "number": version.number,
        "sha256": version.sha256,
        "vendor_org_id": version.vendor_org_id,
        "published_at": _iso(version.published_at),
        "url": _link("dpa.version", slug=slug, number=version.number),
    }


def subprocessor_change_data(proposal: DpaChangeProposal, change: str,
                             changes: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Return a proposed sub-processor change; `change` is proposed, withdrawn or applied."""
    slug = proposal.version.profile.slug
    return {
        "proposal_id": proposal.id,
        "change": change,
        "status": proposal.status,
        "slug": slug,
        "number": proposal.version.number,
        "effective_at": _iso(proposal.effective_at),
        "sub_processors": changes or {},  # names of companies, as on the public list
        "url": _link("dpa.subprocessors", slug=slug),
    }


def test_data(endpoint_id: int) -> dict[str, Any]:
    """Return the data of a test event sent from the endpoint's page."""
    return {"endpoint_id": endpoint_id, "message": "This is a test event from vendorcheck."}
