"""Publishable DPA: the vendor's draft, checks, immutable published versions and their signed PDFs.

The draft is an assessment of the `dpa-questionnaire` owned by a hidden "DPA drafts" organisation
(no member, neither buyer nor vendor) whose Vendor record points to the vendor organisation, so
the vendor answering pages work unchanged while no buyer dashboard or register can ever list it
(see docs/dpa.md). Each service takes the acting user (`by=`), raises a DomainError and commits.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from vendorcheck import audit, mail
from vendorcheck.agreement.assemble import (
    DEFAULT_KIND,
    KINDS,
    LOCALES,
    assemble,
    content_sha256,
    document_context,
)
from vendorcheck.agreement.checks import (
    MIN_OBJECTION_DAYS,
    SETTINGS_REMEDY,
    CheckResult,
    check_draft,
    objection_period_problem,
    objection_period_rule,
    sentences,
)
from vendorcheck.extensions import db
from vendorcheck.i18n import plain_text
from vendorcheck.models import Organisation, User, Vendor, utcnow
from vendorcheck.models.assessments import EDITABLE_STATUSES, Answer, Assessment, AssessmentStatus
from vendorcheck.models.dpa import DpaPdf, DpaProfile, DpaVersion
from vendorcheck.models.dpa_changes import in_force_filter
from vendorcheck.questionnaire import Questionnaire, validate_answers
from vendorcheck.questionnaire.catalogue import semver_key
from vendorcheck.services import dpa_proposals, webhooks
from vendorcheck.services.errors import DomainError
from vendorcheck.services.signing import signer_for, timestamp_url
from vendorcheck.storage import Area, current_store

DPA_QUESTIONNAIRE = "dpa-questionnaire"
# Signup slugs only hold [a-z0-9-], so no real organisation can ever take this one.
DRAFTS_ORG_SLUG = "_vendorcheck-dpa-drafts"
DRAFTS_ORG_NAME = "vendorcheck DPA drafts"
SLUG_RE = re.compile(r"[a-z0-9-]{3,80}")
MAX_OBJECTION_DAYS = 365
PDF_FIELD = "DpaSignature"
PRINT_CSS = ("css", "dpa-print.css")  # below the app's static folder


class DpaError(DomainError):
    """A DPA rule refused the action; the message also reads outside a request (CLI, demo)."""

    def __init__(self, message: object | None = None) -> None:
        super().__init__(plain_text(message if message is not None else self.default))


class NoDraft(DpaError):
    status = 409
    default = _l("Start your DPA draft first.")


class PublishBlocked(DpaError):
    """The draft has problems to fix; `problems` lists them."""

    status = 422
    default = _l("The draft cannot be published yet: fix the problems listed below.")

    def __init__(self, check: CheckResult) -> None:
        self.check = check
        super().__init__()


class LegalNameInvalid(DpaError):
    status = 422
    default = _l("Give the processor's legal name (at most 200 characters).")


class NothingChanged(DpaError):
    status = 409
    default = _l("Nothing changed since the latest published version: there is nothing to publish.")


class PublishConflict(DpaError):
    status = 409
    default = _l("Someone published a version at the same moment; reload the page.")


class SlugInvalid(DpaError):
    default = _l("The address must be 3 to 80 lower-case letters, digits or hyphens.")


class SlugTaken(DpaError):
    status = 409
    default = _l("This address is already used by another organisation.")


class ObjectionDaysInvalid(DpaError):
    default = _l("The objection period must be a whole number of days between 1 and 365.")


class ObjectionShorterThanNotice(DpaError):
    """The objection period would end before the notice period of the draft."""

    def __init__(self, code: str, *, objection_days: int, notice_days: int | None) -> None:
        super().__init__(sentences(objection_period_rule(
            code, objection_days=objection_days, notice_days=notice_days), SETTINGS_REMEDY))


class KindInvalid(DpaError):
    default = _l("Choose the kind of document: the Commission's clauses by reference, or a "
                 "DPA in your own words.")


class QuestionnaireUnavailable(DpaError):
    status = 409
    default = _l("The DPA questionnaire is not available on this instance.")


# ------------------------------------------------------------------------------------ reading

def profile_of(org: Organisation) -> DpaProfile | None:
    """Return an organisation's DPA profile, if it has one."""
    return db.session.scalar(select(DpaProfile).where(DpaProfile.vendor_org_id == org.id))


def profile_by_slug(slug: str) -> DpaProfile | None:
    """Return the profile published under a public slug."""
    if not SLUG_RE.fullmatch(slug or ""):
        return None
    return db.session.scalar(select(DpaProfile).where(DpaProfile.slug == slug))


def versions_of(profile: DpaProfile) -> list[DpaVersion]:
    """Return the published versions, newest first."""
    return list(db.session.scalars(select(DpaVersion).where(DpaVersion.profile_id == profile.id)
                                   .order_by(DpaVersion.number.desc())))


def latest_version(profile: DpaProfile) -> DpaVersion | None:
    """Return the newest version in force (a proposed change counts only once applied)."""
    return db.session.scalar(select(DpaVersion).where(DpaVersion.profile_id == profile.id,
                                                      in_force_filter())
                             .order_by(DpaVersion.number.desc()).limit(1))


def version_of(profile: DpaProfile, number: int) -> DpaVersion | None:
    """Return one published version by number."""
    return db.session.scalar(select(DpaVersion).where(
        DpaVersion.profile_id == profile.id, DpaVersion.number == number))


def draft_of(profile: DpaProfile) -> Assessment | None:
    """Return the profile's draft assessment, if started."""
    if profile.draft_assessment_id is None:
        return None
    return db.session.get(Assessment, profile.draft_assessment_id)


def is_dpa_draft(assessment: Assessment) -> bool:
    """Tell whether an assessment is a DPA draft (owned by the hidden drafts organisation)."""
    return assessment.buyer_org is not None and assessment.buyer_org.slug == DRAFTS_ORG_SLUG


def questionnaire_of_version(version: DpaVersion) -> Questionnaire | None:
    """Return the questionnaire version a DPA version was built from (for option labels)."""
    try:
        q: Questionnaire = current_app.extensions["questionnaires"].get(
            version.questionnaire_id, version.questionnaire_version)
    except KeyError:
        return None
    return q


def _dpa_questionnaire() -> Questionnaire:
    """Return the latest published DPA questionnaire."""
    try:
        q: Questionnaire = current_app.extensions["questionnaires"].get(DPA_QUESTIONNAIRE)
    except KeyError as exc:
        raise QuestionnaireUnavailable() from exc
    return q


def draft_answers(draft: Assessment) -> dict[str, Any]:
    """Return the stored answers of a draft as the engine reads them."""
    return {a.item_id: a.value for a in draft.answers if a.value is not None}


# The draft's item whose answer is the processor's legal name: the public title of every version.
LEGAL_NAME_ITEM = "processor_legal_name"
MAX_LEGAL_NAME = 200


def draft_legal_name(profile: DpaProfile) -> str:
    """Return the legal name the draft would publish: its answer, else the organisation's name."""
    draft = draft_of(profile)
    answered = draft_answers(draft).get(LEGAL_NAME_ITEM) if draft is not None else None
    return str(answered or profile.vendor_org.name)[:MAX_LEGAL_NAME]


def _set_legal_name(draft: Assessment, name: str, *, by: User) -> None:
    """Store the legal name confirmed in the publish form as the draft's answer (no commit)."""
    value = " ".join((name or "").split())
    if not value or len(value) > MAX_LEGAL_NAME:
        raise LegalNameInvalid()
    answer = next((a for a in draft.answers if a.item_id == LEGAL_NAME_ITEM), None)
    if answer is None:
        draft.answers.append(Answer(item_id=LEGAL_NAME_ITEM, value=value, updated_by_id=by.id))
    elif answer.value != value:
        answer.value, answer.updated_by_id = value, by.id


def draft_questionnaire(draft: Assessment) -> Questionnaire:
    """Return the questionnaire version the draft is pinned to."""
    try:
        q: Questionnaire = current_app.extensions["questionnaires"].get(
            draft.questionnaire_id, draft.questionnaire_version)
    except KeyError as exc:
        raise QuestionnaireUnavailable() from exc
    return q


def check_profile(profile: DpaProfile) -> CheckResult:
    """Return what blocks publishing the current draft."""
    draft = current_draft(profile)
    if draft is None:
        raise NoDraft()
    return check_draft(draft_questionnaire(draft), draft_answers(draft),
                       objection_days=profile.objection_days)


def draft_content(profile: DpaProfile, kind: str = DEFAULT_KIND) -> dict[str, Any]:
    """Return the document of one kind the draft would publish now (for the vendor's preview)."""
    draft = current_draft(profile)
    if draft is None:
        raise NoDraft()
    if kind not in KINDS:
        raise KindInvalid()
    return assemble(draft_questionnaire(draft), draft_answers(draft), kind=kind,
                    objection_days=profile.objection_days)


@dataclass(frozen=True)
class DraftPage:
    """What the public version page shows, for a draft not published yet (the vendor's preview)."""

    version: SimpleNamespace  # the attributes of a DpaVersion the public page reads
    q: Questionnaire


def draft_public_page(profile: DpaProfile, kind: str = DEFAULT_KIND) -> DraftPage:
    """Return the next version as it would be published now: content, number, digest (unsaved)."""
    content = draft_content(profile, kind)
    draft = current_draft(profile)
    assert draft is not None  # draft_content raised NoDraft otherwise
    previous = latest_version(profile)
    version = SimpleNamespace(
        id=None, number=(previous.number if previous else 0) + 1, content=content,
        sha256=content_sha256(content), published_at=utcnow(), profile=profile,
        vendor_org=profile.vendor_org, objection_days=profile.objection_days)
    return DraftPage(version, draft_questionnaire(draft))


def draft_preview_pdf(profile: DpaProfile, kind: str, locale: str) -> bytes:
    """Render the PDF the draft would publish now, marked "Preview — not published": not signed,
    not stored, nothing saved (the vendor's check before the irreversible step)."""
    from vendorcheck.pdf.render import render_pdf

    page = draft_public_page(profile, kind)
    context = document_context(page.version.content, locale=locale if locale in LOCALES else "en",
                               q=page.q)
    with force_locale(context["locale"]):
        html = render_template("dpa/document.html", version=page.version, profile=profile, doc=context,
                               standalone=True, preview=True, base_url="")
    static_dir = Path(current_app.static_folder or "static")
    css = static_dir.joinpath(*PRINT_CSS).read_text("utf-8")
    return render_pdf(html, static_dir=static_dir, stylesheets=[css], created=page.version.published_at)


def current_draft(profile: DpaProfile) -> Assessment | None:
    """Return the profile's draft, first moved to the latest compatible questionnaire version."""
    draft = draft_of(profile)
    if draft is not None and upgrade_draft(draft):
        db.session.commit()
    return draft


def upgrade_draft(draft: Assessment) -> bool:
    """Move a draft to the newest published DPA questionnaire of the same major version.

    A minor version keeps every item and option of the previous one, so the answers stay valid
    and the vendor sees the questions the documents now need. A draft whose answers would not
    validate stays where it is. Returns whether the draft moved (the caller commits).
    """
    try:
        latest = _dpa_questionnaire()
    except QuestionnaireUnavailable:
        return False
    current, target = semver_key(draft.questionnaire_version), semver_key(latest.version)
    if draft.questionnaire_id != latest.id or target <= current or target[0] != current[0]:
        return False
    if not validate_answers(latest, draft_answers(draft)).ok:
        return False
    before = draft.questionnaire_version
    draft.questionnaire_version, draft.questionnaire_sha256 = latest.version, latest.sha256
    from vendorcheck.services.assessments import refresh_results

    refresh_results(draft, latest)
    audit.record("dpa.draft_upgraded", by=None, org=draft.vendor.vendor_org_id, obj=draft,
                 details={"from": before, "to": latest.version})
    return True


# ------------------------------------------------------------------------------ draft services

def default_slug(name: str) -> str:
    """Return a free public slug derived from an organisation name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:70].strip("-")
    base = base if len(base) >= 3 else f"dpa-{base}".strip("-")
    slug, n = base, 1
    while db.session.scalar(select(DpaProfile.id).where(DpaProfile.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def ensure_profile(org: Organisation, *, by: User | None) -> DpaProfile:
    """Return the organisation's DPA profile, creating it (with a derived slug) if needed."""
    profile = profile_of(org)
    if profile is not None:
        return profile
    profile = DpaProfile(vendor_org_id=org.id, slug=default_slug(org.name))
    db.session.add(profile)
    db.session.flush()
    audit.record("dpa.profile_created", by=by, org=org, obj=profile, details={"slug": profile.slug})
    return profile


def _drafts_org() -> Organisation:
    """Return the hidden organisation that owns every DPA draft, creating it once."""
    org = db.session.scalar(select(Organisation).where(Organisation.slug == DRAFTS_ORG_SLUG))
    if org is None:
        org = Organisation(name=DRAFTS_ORG_NAME, slug=DRAFTS_ORG_SLUG, is_buyer=False,
                           is_vendor=False)
        db.session.add(org)
        db.session.flush()
    return org


def _self_vendor(org: Organisation) -> Vendor:
    """Return the drafts organisation's Vendor record pointing to this vendor organisation."""
    drafts = _drafts_org()
    vendor = db.session.scalar(select(Vendor).where(
        Vendor.buyer_org_id == drafts.id, Vendor.vendor_org_id == org.id))
    if vendor is None:
        vendor = Vendor(buyer_org_id=drafts.id, vendor_org_id=org.id, legal_name=org.name[:200],
                        country=org.country)
        db.session.add(vendor)
        db.session.flush()
    return vendor


def start_draft(org: Organisation, *, by: User) -> Assessment:
    """Return the organisation's DPA draft, creating it (and the profile) if needed."""
    profile = ensure_profile(org, by=by)
    draft = draft_of(profile)
    if draft is not None:
        upgrade_draft(draft)
        if draft.status not in EDITABLE_STATUSES:
            # Someone used "submit" on the generic answering page: no buyer reviews a DPA draft,
            # so it simply becomes editable again.
            draft.status = AssessmentStatus.IN_PROGRESS
            audit.record("dpa.draft_reopened", by=by, org=org, obj=draft)
        db.session.commit()
        return draft
    q = _dpa_questionnaire()
    vendor = _self_vendor(org)
    draft = Assessment(
        buyer_org_id=vendor.buyer_org_id, vendor_id=vendor.id, questionnaire_id=q.id,
        questionnaire_version=q.version, questionnaire_sha256=q.sha256,
        # No creator: a "submitted" notice would otherwise be mailed to the vendor itself.
        status=AssessmentStatus.IN_PROGRESS, message="", created_by_id=None, sent_at=utcnow())
    # The legal name starts as the organisation's, so the vendor confirms it rather than types it.
    draft.answers.append(Answer(item_id=LEGAL_NAME_ITEM, value=org.name[:MAX_LEGAL_NAME],
                                updated_by_id=by.id))
    db.session.add(draft)
    db.session.flush()
    profile.draft_assessment_id = draft.id
    audit.record("dpa.draft_started", by=by, org=org, obj=draft,
                 details={"questionnaire": q.key, "profile": profile.id})
    db.session.commit()
    return draft


def draft_notice_days(profile: DpaProfile) -> int | None:
    """Return the notice period of the draft's general authorisation, if it has one."""
    draft = draft_of(profile)
    if draft is None:
        return None
    answers = draft_answers(draft)
    if answers.get("uses_subprocessors") != "yes" or \
            answers.get("subprocessor_authorisation") != "general":
        return None
    days = answers.get("notice_days")
    return int(days) if isinstance(days, (int, float)) and not isinstance(days, bool) else None


def update_settings(profile: DpaProfile, *, slug: str, objection_days: Any, by: User) -> DpaProfile:
    """Change the public slug and the objection period (applies to later versions only).

    The objection period is 1 to 365 days and fits the draft's notice period by the rule of
    `dpa.checks.objection_period_problem` (see docs/dpa.md).
    """
    slug = (slug or "").strip().lower()
    if not SLUG_RE.fullmatch(slug):
        raise SlugInvalid()
    try:
        days = int(str(objection_days).strip())
    except (TypeError, ValueError):
        raise ObjectionDaysInvalid() from None
    if not MIN_OBJECTION_DAYS <= days <= MAX_OBJECTION_DAYS:
        raise ObjectionDaysInvalid()
    notice = draft_notice_days(profile)
    code = objection_period_problem(days, notice, general=notice is not None)
    if code is not None:
        raise ObjectionShorterThanNotice(code, objection_days=days, notice_days=notice)
    taken = db.session.scalar(select(DpaProfile.id).where(
        DpaProfile.slug == slug, DpaProfile.id != profile.id))
    if taken is not None:
        raise SlugTaken()
    before = {"slug": profile.slug, "objection_days": profile.objection_days}
    profile.slug, profile.objection_days = slug, days
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise SlugTaken() from None
    audit.record("dpa.settings_changed", by=by, org=profile.vendor_org_id, obj=profile,
                 details={"before": before, "after": {"slug": slug, "objection_days": days}})
    db.session.commit()
    return profile


# ---------------------------------------------------------------------------------- publishing

def publish(profile: DpaProfile, *, by: User, kind: str = DEFAULT_KIND,
            legal_name: str | None = None) -> DpaVersion:
    """Publish the draft as the next immutable version of one kind of document.

    Refuses an unknown kind, a draft with problems and content identical to the latest version
    (the kind is part of the content, so the same answers as the other kind are a change).
    `legal_name`, confirmed in the publish form, becomes the draft's answer first.
    """
    if kind not in KINDS:
        raise KindInvalid()
    draft = current_draft(profile)
    if draft is None:
        raise NoDraft()
    if legal_name is not None:
        _set_legal_name(draft, legal_name, by=by)
        db.session.flush()
    q = draft_questionnaire(draft)
    answers = draft_answers(draft)
    check = check_draft(q, answers, objection_days=profile.objection_days)
    if not check.ok:
        raise PublishBlocked(check)
    content = assemble(q, answers, kind=kind, objection_days=profile.objection_days)
    digest = content_sha256(content)
    previous = latest_version(profile)
    if previous is not None and previous.sha256 == digest:
        raise NothingChanged()

    dpa_proposals.check_direct_publish(profile, previous, content)  # sub-processors: propose
    number = (db.session.scalar(select(func.max(DpaVersion.number))
                                .where(DpaVersion.profile_id == profile.id)) or 0) + 1
    version = DpaVersion(
        profile_id=profile.id, vendor_org_id=profile.vendor_org_id, number=number,
        published_at=utcnow(), published_by_id=by.id, sha256=digest, content=content,
        questionnaire_id=q.id, questionnaire_version=q.version, questionnaire_sha256=q.sha256,
        objection_days=profile.objection_days)
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise PublishConflict() from None
    audit.record("dpa.published", by=by, org=profile.vendor_org_id, obj=version, details={
        "slug": profile.slug, "number": number, "sha256": digest, "kind": kind,
        "questionnaire": q.key, "previous": previous.number if previous else None,
        "legal_name": content.get("parties", {}).get("processor_name")})
    from vendorcheck.services import dpa_notify  # owned by the notifications work; imported late

    messages = dpa_notify.version_published(version, previous) or []
    hooks = webhooks.dpa_published_event(version)
    db.session.commit()
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return version


# ------------------------------------------------------------------------------- signed PDFs

def stored_pdf(version: DpaVersion, locale: str) -> DpaPdf | None:
    """Return the stored PDF record of a version in one locale."""
    return db.session.scalar(select(DpaPdf).where(DpaPdf.version_id == version.id,
                                                  DpaPdf.locale == locale))


def _read(record: DpaPdf) -> bytes | None:
    """Return the stored bytes if the file is there and matches its digest."""
    return current_store().read_checked(Area.DPA, record.storage_key, record.sha256)


def render_document_html(version: DpaVersion, locale: str, *, standalone: bool,
                         controller: dict[str, Any] | None = None) -> str:
    """Render a version's document (the PDF page when standalone) in one locale.

    `controller` fills the controller's part of Annex I (an accepted copy).
    """
    q = questionnaire_of_version(version)
    context = document_context(version.content, locale=locale, q=q, controller=controller)
    with force_locale(context["locale"]):
        return render_template("dpa/document.html", version=version, profile=version.profile,
                               doc=context, standalone=standalone,
                               base_url=current_app.config.get("BASE_URL", ""))


def build_signed_pdf(version: DpaVersion, locale: str) -> bytes:
    """Render and sign a version's PDF (not stored)."""
    from vendorcheck.pdf import sign_pdf
    from vendorcheck.pdf.render import render_pdf

    html = render_document_html(version, locale, standalone=True)
    static_dir = Path(current_app.static_folder or "static")
    css = static_dir.joinpath(*PRINT_CSS).read_text("utf-8")
    pdf = render_pdf(html, static_dir=static_dir, stylesheets=[css], created=version.published_at)
    signer = signer_for(version.vendor_org_id)
    return sign_pdf(pdf, signer, reason=f"Data processing agreement, version {version.number}",
                    field_name=PDF_FIELD, font_path=static_dir / "fonts" / "NimbusSans-Regular.otf",
                    location=version.vendor_org.name[:100], timestamp_url=timestamp_url())


def version_pdf(version: DpaVersion, locale: str) -> bytes:
    """Return a version's signed PDF: rendered once per locale, then the same bytes for ever."""
    if locale not in LOCALES:
        locale = "en"
    record = stored_pdf(version, locale)
    data = _read(record) if record is not None else None
    if data is not None:
        return data
    data = build_signed_pdf(version, locale)
    stored = current_store().save(Area.DPA, io.BytesIO(data))
    if record is None:
        record = DpaPdf(version_id=version.id, locale=locale)
        db.session.add(record)
    record.storage_key, record.sha256, record.size = stored
    record.created_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:
        # Two first downloads at once: keep the record the other request stored.
        db.session.rollback()
        other = stored_pdf(version, locale)
        kept = _read(other) if other is not None else None
        if kept is not None:
            current_store().delete(Area.DPA, stored.key)
            return kept
        raise
    return data


def pdf_by_digest(digest: str) -> DpaPdf | None:
    """Return the stored DPA PDF with this SHA-256, if any (for `report verify`)."""
    return db.session.scalar(select(DpaPdf).where(DpaPdf.sha256 == digest))


__all__ = [
    "DPA_QUESTIONNAIRE", "KindInvalid", "NoDraft", "NothingChanged", "ObjectionDaysInvalid",
    "ObjectionShorterThanNotice", "PublishBlocked", "PublishConflict", "SlugInvalid", "SlugTaken",
    "LEGAL_NAME_ITEM", "LegalNameInvalid", "check_profile", "current_draft", "draft_content",
    "draft_legal_name", "draft_notice_days", "draft_of", "draft_preview_pdf", "draft_public_page",
    "ensure_profile", "is_dpa_draft", "latest_version", "pdf_by_digest", "profile_by_slug",
    "profile_of", "publish", "start_draft", "update_settings", "upgrade_draft", "version_of",
    "version_pdf", "versions_of",
]
