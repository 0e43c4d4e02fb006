"""Documents that expire: what a buyer should renew soon, and findings for what already expired.

Evidence files carry the vendor's `effective_on` and `expires_on` (the document's own validity,
separate from the upload time). Three things read them:

- the buyer's dashboard lists what expires within 30, 60 and 90 days, and what already expired;
- the daily reminders ask the vendor for the renewed document 30 and 7 days before expiry;
- an expired file that a favourable answer relied on raises the finding "evidence expired" on the
  review page until a newer file of the same question is valid. The buyer's accepted DPA version
  that a newer published version superseded is flagged the same way.

These findings are computed here, at the service level, from the stored files and today's date:
the scoring engine stays a pure function of the questionnaire and the answers (the same answers
score the same on any day), and a document's validity is a fact about a stored file, not an
answer. See docs/expiry.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from vendorcheck import mail
from vendorcheck.extensions import db
from vendorcheck.models import OutboxMessage, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus, Evidence
from vendorcheck.questionnaire import Questionnaire, ScoreResult
from vendorcheck.services.assessments.reading import questionnaire_of
from vendorcheck.services.dpa_acceptance import AcceptedDpa, accepted_dpas
from vendorcheck.services.invitations import recipient_locale
from vendorcheck.services.notify import queue_mail

WINDOWS = (30, 60, 90)
REMIND_DAYS = (30, 7)  # reminders to renew go out this many days before expiry, once each


@dataclass(frozen=True)
class ExpiringFile:
    """One evidence file with an expiry date, as the buyer's dashboard lists it."""

    evidence: Evidence
    vendor: Vendor
    days_left: int  # negative: expired that many days ago


@dataclass(frozen=True)
class DocumentFinding:
    """A finding about a document: an expired file a favourable answer relied on, or a
    superseded accepted DPA version."""

    kind: str  # "evidence_expired" or "dpa_superseded"
    item_id: str | None
    name: str
    since: date | None


def expiring_files(buyer_org_id: int, today: date, horizon: int = WINDOWS[-1]
                   ) -> list[ExpiringFile]:
    """Return the buyer's evidence files that expire within `horizon` days or already did and
    were not renewed, soonest first."""
    rows = db.session.execute(
        select(Evidence, Vendor).join(Evidence.assessment).join(Vendor, Vendor.id == Assessment.vendor_id)
        .where(Assessment.buyer_org_id == buyer_org_id, Assessment.status != AssessmentStatus.DRAFT,
               Evidence.expires_on.is_not(None),
               Evidence.expires_on <= today + timedelta(days=horizon))
        .order_by(Evidence.expires_on, Evidence.id)).all()
    return [ExpiringFile(evidence, vendor, (evidence.expires_on - today).days)
            for evidence, vendor in rows
            if evidence.expires_on is not None and not _renewed(evidence, today)]


def by_window(files: Iterable[ExpiringFile]) -> dict[int, list[ExpiringFile]]:
    """Group files by the first window they fall in (0: already expired)."""
    groups: dict[int, list[ExpiringFile]] = {0: [], **{w: [] for w in WINDOWS}}
    for f in files:
        key = 0 if f.days_left < 0 else next(w for w in WINDOWS if f.days_left <= w)
        groups[key].append(f)
    return groups


def superseded_dpas(buyer_org_id: int) -> list[AcceptedDpa]:
    """Return the buyer's accepted DPAs for which the vendor published a newer version."""
    return [row for row in accepted_dpas(buyer_org_id) if row.newer_available]


def _renewed(evidence: Evidence, today: date) -> bool:
    """Tell whether a newer file of the same question is valid today."""
    return any(other.id != evidence.id and other.item_id == evidence.item_id
               and other.uploaded_at > evidence.uploaded_at
               and (other.expires_on is None or other.expires_on >= today)
               for other in evidence.assessment.evidence)


def document_findings(assessment: Assessment, result: ScoreResult, today: date,
                      q: Questionnaire | None = None) -> list[DocumentFinding]:
    """Return the document findings of an assessment today (nothing stored, nothing scored)."""
    q = q or questionnaire_of(assessment)
    favourable = {s.item_id for s in result.items if s.state == "scored" and s.earned > 0}
    found = []
    for evidence in assessment.evidence:
        if evidence.expires_on is None or evidence.expires_on >= today or _renewed(evidence, today):
            continue
        relied_on = evidence.item_id in favourable or (
            q.has_item(evidence.item_id) and q.item(evidence.item_id).kind.is_upload)
        if relied_on:
            found.append(DocumentFinding("evidence_expired", evidence.item_id, evidence.file_name,
                                         evidence.expires_on))
    for row in superseded_dpas(assessment.buyer_org_id):
        if assessment.vendor.vendor_org_id == row.latest.vendor_org_id:
            found.append(DocumentFinding("dpa_superseded", None, f"v{row.in_force.number}",
                                         row.latest.published_at.date()))
    return found


def queue_expiry_reminders(today: date) -> list[OutboxMessage]:
    """Queue, once per file and step, a request for the renewed document (no commit)."""
    out: list[OutboxMessage] = []
    for days in REMIND_DAYS:
        files = db.session.scalars(select(Evidence).join(Evidence.assessment).where(
            Evidence.expires_on == today + timedelta(days=days),
            Assessment.status != AssessmentStatus.DRAFT))
        for evidence in files:
            kind = f"evidence_expiry_{days}"
            if _renewed(evidence, today) or _already_sent(evidence, kind):
                continue
            out += _remind_renewal(evidence, days, kind)
    return out


def _already_sent(evidence: Evidence, kind: str) -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.template == kind, OutboxMessage.ref_type == "evidence",
        OutboxMessage.ref_id == evidence.id).limit(1)) is not None


def _remind_renewal(evidence: Evidence, days: int, kind: str) -> list[OutboxMessage]:
    """Ask each contact the assessment was sent to for the renewed document."""
    assessment = evidence.assessment
    link = mail.external_url("supplier.assessment", assessment_id=assessment.id)
    return [queue_mail("evidence_expiring", to=r.contact.email,
                       locale=recipient_locale(r.contact.email, assessment.vendor),
                       context={"name": r.contact.name, "buyer": assessment.buyer_org.name,
                                "file": evidence.file_name, "expires_on": evidence.expires_on,
                                "days": days, "link": link},
                       org_id=assessment.buyer_org_id, ref=("evidence", evidence.id), kind=kind)
            for r in assessment.recipients]
