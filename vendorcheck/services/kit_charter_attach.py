"""The vendor's published GDPR charter attached to an assessment as evidence, for the reviewers.

Works like attaching a DPA version (services/dpa_prefill.py): one charter version per assessment,
chosen among the versions the assessment's own vendor published. See docs/compliance-kit.md.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import User, utcnow
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.kit import AssessmentCharterLink, CharterVersion
from vendorcheck.services import kit_charter
from vendorcheck.services.errors import DomainError


class NoPublishedCharter(DomainError):
    status = 409
    default = _l("This vendor has not published a GDPR charter on vendorcheck yet.")


class NotThisVendorsCharter(DomainError):
    status = 404  # another vendor's (or tenant's) charter is not there for this assessment
    default = _l("Choose one of the published versions of this vendor's GDPR charter.")


class NothingAttached(DomainError):
    status = 409
    default = _l("No GDPR charter is attached to this assessment.")


def published_versions(assessment: Assessment) -> list[CharterVersion]:
    """Return the charters the assessment's vendor published, newest first."""
    org_id = assessment.vendor.vendor_org_id
    return kit_charter.versions_of(org_id) if org_id is not None else []


def link_of(assessment_id: int) -> AssessmentCharterLink | None:
    """Return the charter attached to an assessment, if any."""
    return db.session.scalar(select(AssessmentCharterLink).where(
        AssessmentCharterLink.assessment_id == assessment_id))


def public_slug(link: AssessmentCharterLink) -> str | None:
    """Return the public slug of the attached charter's vendor (None when it has no DPA page)."""
    published = kit_charter.published_of(link.version.vendor_org_id)
    return published["slug"] if published is not None else None


def attach(assessment: Assessment, version_id: int, *, by: User) -> AssessmentCharterLink:
    """Attach (or replace) the charter version reviewers see beside the assessment's answers."""
    versions = {v.id: v for v in published_versions(assessment)}
    if not versions:
        raise NoPublishedCharter()
    version = versions.get(version_id)
    if version is None:
        raise NotThisVendorsCharter()
    link = link_of(assessment.id)
    if link is None:
        link = AssessmentCharterLink(assessment_id=assessment.id, charter_version_id=version.id)
        db.session.add(link)
    link.charter_version_id = version.id
    link.attached_by_id = by.id
    link.attached_at = utcnow()
    db.session.flush()
    audit.record("kit.charter_attached", by=by, org=assessment.buyer_org_id, obj=assessment,
                 details={"charter_version_id": version.id, "number": version.number,
                          "sha256": version.sha256})
    db.session.commit()
    return link


def detach(assessment: Assessment, *, by: User) -> None:
    """Remove the attached charter from the assessment (the published charter itself stays)."""
    link = link_of(assessment.id)
    if link is None:
        raise NothingAttached()
    version = link.version
    db.session.delete(link)
    audit.record("kit.charter_detached", by=by, org=assessment.buyer_org_id, obj=assessment,
                 details={"charter_version_id": version.id, "number": version.number,
                          "sha256": version.sha256})
    db.session.commit()
