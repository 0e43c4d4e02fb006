"""The vendor's GDPR charter: preview, publication as immutable versions, public page and PDF.

Published like the DPA: each publication is a new version that is never changed, shown beside the
DPA at `/dpa/<slug>/charter`; a charter with missing facts cannot be published. See
docs/compliance-kit.md.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from vendorcheck import audit
from vendorcheck.agreement.assemble import content_sha256
from vendorcheck.agreement.charter import charter_context, charter_facts, missing
from vendorcheck.extensions import db
from vendorcheck.i18n import plain_text
from vendorcheck.models import Organisation, User
from vendorcheck.models.dpa import DpaProfile
from vendorcheck.models.kit import CharterVersion
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.services import dpa as dpa_svc
from vendorcheck.services import kit_register
from vendorcheck.services.errors import DomainError
from vendorcheck.services.kit_register import read_now

PDF_FIELD = "CharterSignature"


class CharterIncomplete(DomainError):
    """Facts are missing; `missing` lists them."""

    status = 422
    default = _l("The charter cannot be published yet: complete what is listed below.")

    def __init__(self, gaps: list[Any]) -> None:
        self.missing = gaps
        super().__init__(plain_text(self.default))


class CharterUnchanged(DomainError):
    status = 409
    default = _l("Nothing changed since the published charter: there is nothing to publish.")


class CharterNotConfirmed(DomainError):
    status = 422
    default = _l("Tick the confirmation box to publish.")


class CharterConflict(DomainError):
    status = 409
    default = _l("Someone published the charter at the same moment; reload the page.")


def draft_facts(org: Organisation) -> dict[str, Any]:
    """Return what the charter would state now: current answers and the DPA version in force."""
    content, q = kit_register.current_content(org)
    profile = dpa_svc.profile_of(org)
    version = dpa_svc.latest_version(profile) if profile is not None else None
    dpa = {"slug": profile.slug, "number": version.number, "sha256": version.sha256} \
        if profile is not None and version is not None else None
    return charter_facts(content, dpa=dpa, questionnaire=(q.id, q.version))


def questionnaire_of(facts: dict[str, Any]) -> Questionnaire | None:
    """Return the questionnaire the facts' codes belong to (None when gone from the catalogue)."""
    pinned = facts.get("questionnaire") or [dpa_svc.DPA_QUESTIONNAIRE, None]
    try:
        q: Questionnaire = current_app.extensions["questionnaires"].get(*pinned)
    except (KeyError, TypeError):
        return None
    return q


def context_of(facts: dict[str, Any], locale: str) -> dict[str, Any]:
    """Return the charter in words, in one locale (the engine's texts are read in that locale)."""
    with force_locale(locale):
        return read_now(charter_context(facts, locale=locale, q=questionnaire_of(facts)))


def latest(org_id: int) -> CharterVersion | None:
    """Return the newest published charter of an organisation."""
    return db.session.scalar(select(CharterVersion).where(CharterVersion.vendor_org_id == org_id)
                             .order_by(CharterVersion.number.desc()).limit(1))


def versions_of(org_id: int) -> list[CharterVersion]:
    """Return the published charters, newest first."""
    return list(db.session.scalars(select(CharterVersion).where(
        CharterVersion.vendor_org_id == org_id).order_by(CharterVersion.number.desc())))


def published_by_slug(slug: str) -> tuple[DpaProfile, CharterVersion] | None:
    """Return a DPA profile and its latest published charter, by the DPA's public slug."""
    profile = dpa_svc.profile_by_slug(slug)
    charter = latest(profile.vendor_org_id) if profile is not None else None
    return (profile, charter) if profile is not None and charter is not None else None


def published_of(vendor_org_id: int) -> dict[str, Any] | None:
    """Return a vendor's latest published charter with its public slug and the DPA it links to."""
    charter = latest(vendor_org_id)
    if charter is None:
        return None
    profile = db.session.scalar(select(DpaProfile).where(DpaProfile.vendor_org_id == vendor_org_id))
    if profile is None:
        return None
    return {"slug": profile.slug, "charter": charter, "dpa": charter.facts.get("dpa")}


def publish(org: Organisation, *, by: User, confirmed: bool) -> CharterVersion:
    """Publish the charter as a new immutable version (refused while facts are missing)."""
    if not confirmed:
        raise CharterNotConfirmed()
    facts = draft_facts(org)
    gaps = missing(facts)
    if gaps:
        raise CharterIncomplete(gaps)
    digest = content_sha256(facts)
    previous = latest(org.id)
    if previous is not None and previous.sha256 == digest:
        raise CharterUnchanged()
    number = (db.session.scalar(select(func.max(CharterVersion.number)).where(
        CharterVersion.vendor_org_id == org.id)) or 0) + 1
    version = CharterVersion(vendor_org_id=org.id, number=number, sha256=digest, facts=facts,
                             published_by_id=by.id)
    db.session.add(version)
    audit.record("kit.charter_published", by=by, org=org, obj=version,
                 details={"number": number, "sha256": digest})
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise CharterConflict() from exc
    return version


def render_html(facts: dict[str, Any], locale: str, *, org: Organisation,
                version: CharterVersion | None, standalone: bool) -> str:
    """Render a charter (a published version, or the preview) as a document."""
    context = context_of(facts, locale)
    with force_locale(context["locale"]):
        return render_template("dpa/charter_document.html", charter=context, org=org,
                               version=version, standalone=standalone,
                               base_url=current_app.config.get("BASE_URL", ""))


def signed_pdf(version: CharterVersion, locale: str) -> bytes:
    """Render and sign a published charter's PDF with the vendor's key (else the instance's)."""
    html = render_html(version.facts, locale, org=version.vendor_org, version=version,
                       standalone=True)
    return kit_register.sign_html(html, version.vendor_org, field=PDF_FIELD,
                                  created=version.published_at,
                                  reason=f"GDPR charter, version {version.number}")


__all__ = ["CharterConflict", "CharterIncomplete", "CharterNotConfirmed", "CharterUnchanged",
           "context_of", "draft_facts", "latest", "publish", "published_by_slug", "published_of",
           "render_html",
           "signed_pdf", "versions_of"]
