"""A DPA beside an assessment: attach a published version for reviewers; prefill vendor answers.

Prefill copies what the vendor's latest published DPA already states (sub-processors, transfer
locations and tools) into the art28-processor-audit questionnaire. It goes through the normal
save service, one item at a time, so validation, versioning, scoring and the audit log apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import User, utcnow
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.models.dpa_changes import in_force_filter
from vendorcheck.models.dpa_relations import AssessmentDpaLink
from vendorcheck.questionnaire import validate_answers
from vendorcheck.services import assessments as answers_svc
from vendorcheck.services.errors import DomainError

PREFILL_QUESTIONNAIRE = "art28-processor-audit"


class NoPublishedDpa(DomainError):
    status = 409
    default = _l("This vendor has not published a data processing agreement on vendorcheck yet.")


class WrongVersion(DomainError):
    status = 422
    default = _l("Choose one of the published versions of this vendor's DPA.")


class PrefillClosed(DomainError):
    status = 409
    default = _l("This questionnaire can no longer be changed, so nothing can be prefilled.")


class PrefillNotOffered(DomainError):
    status = 409
    default = _l("Prefilling from the DPA is offered for the Art. 28 processor audit "
                 "questionnaire only.")


# ------------------------------------------------------------------------------ attach

def vendor_profile(assessment: Assessment) -> DpaProfile | None:
    """Return the DPA profile of the assessment's vendor organisation, if it has one."""
    org_id = assessment.vendor.vendor_org_id
    if org_id is None:
        return None
    return db.session.scalar(select(DpaProfile).where(DpaProfile.vendor_org_id == org_id))


def published_versions(assessment: Assessment) -> list[DpaVersion]:
    """Return the published versions of the vendor's DPA, newest first."""
    profile = vendor_profile(assessment)
    if profile is None:
        return []
    return list(db.session.scalars(select(DpaVersion).where(
        DpaVersion.profile_id == profile.id).order_by(DpaVersion.number.desc())))


def link_of(assessment_id: int) -> AssessmentDpaLink | None:
    """Return the DPA attached to an assessment, if any."""
    return db.session.scalar(select(AssessmentDpaLink).where(
        AssessmentDpaLink.assessment_id == assessment_id))


def attach(assessment: Assessment, version_id: int, *, by: User) -> AssessmentDpaLink:
    """Attach (or replace) the DPA version reviewers see beside the assessment's answers."""
    versions = {v.id: v for v in published_versions(assessment)}
    if not versions:
        raise NoPublishedDpa()
    version = versions.get(version_id)
    if version is None:
        raise WrongVersion()
    link = link_of(assessment.id)
    if link is None:
        link = AssessmentDpaLink(assessment_id=assessment.id, dpa_version_id=version.id)
        db.session.add(link)
    link.dpa_version_id = version.id
    link.attached_by_id = by.id
    link.attached_at = utcnow()
    db.session.flush()
    audit.record("dpa.attached", by=by, org=assessment.buyer_org_id, obj=assessment, details={
        "dpa_version_id": version.id, "number": version.number, "sha256": version.sha256})
    db.session.commit()
    return link


# ------------------------------------------------------------------------------ prefill

# The one place that maps DPA content (see docs/dpa.md) onto art28-processor-audit items,
# read from questionnaires/art28-processor-audit/1.0.0.yaml (every later 1.x version keeps these items):
# - `subprocessors` (table): columns name, country ("where it processes or accesses the data",
#   i.e. the DPA's `location`, else its country of establishment), purpose (the DPA's
#   `activity`) and transfer_tool (same option values as the DPA questionnaire; kept only when
#   the DPA states one, since the art28 column shows only for non-EEA countries).
# - `uses_subprocessors`: "yes" when the DPA lists at least one sub-processor.
# - `access_countries`: the DPA's processing locations ("where you store or access the data").
# - `transfer_tools`: the tool the DPA names for the vendor's own processing outside the EEA.
# Hosting countries are not filled: the DPA does not tell hosting from remote access.
SUBPROCESSOR_COLUMNS = {"name": "name", "country": ("location", "country"),
                        "purpose": "activity", "transfer_tool": "transfer_tool"}
PROCESSING_LOCATIONS = ("processing", "processing_locations")  # slot dpa.annex_i.processing_locations
OWN_TRANSFER_TOOL = ("processing", "transfer_tool")  # slot dpa.annex_i.transfer_tool


def _lookup(content: dict[str, Any], path: tuple[str, ...]) -> Any:
    """Return the value at a path of the content, or None."""
    node: Any = content
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _subprocessor_row(row: dict[str, Any]) -> dict[str, Any]:
    """Map one DPA sub-processor row onto the art28 table's columns."""
    mapped: dict[str, Any] = {}
    for column, source in SUBPROCESSOR_COLUMNS.items():
        keys = source if isinstance(source, tuple) else (source,)
        value = next((row.get(k) for k in keys if row.get(k)), None)
        if value:
            mapped[column] = str(value).upper() if column == "country" else str(value)
    return mapped


def values_from_dpa(content: dict[str, Any]) -> dict[str, Any]:
    """Return the art28 answers a DPA's content gives (only items it actually states)."""
    values: dict[str, Any] = {}
    rows = [_subprocessor_row(r) for r in content.get("subprocessors") or [] if isinstance(r, dict)]
    rows = [r for r in rows if r.get("name")]
    if rows:
        values["uses_subprocessors"] = "yes"
        values["subprocessors"] = rows
    locations = _lookup(content, PROCESSING_LOCATIONS)
    if isinstance(locations, list) and locations:
        values["access_countries"] = [str(c).upper() for c in locations]
    tool = _lookup(content, OWN_TRANSFER_TOOL)
    if isinstance(tool, str) and tool:
        values["transfer_tools"] = [tool]
    return values


@dataclass(frozen=True)
class PlannedAnswer:
    """One item the prefill would touch: its current and new value, and whether it will."""

    item_id: str
    current: Any
    new: Any
    action: str  # "fill", "overwrite", "keep" (already answered), "same" or "invalid"
    problem: str = ""


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def latest_version_of(org_id: int | None) -> DpaVersion | None:
    """Return the newest version in force of an organisation's DPA (not an announced change)."""
    if org_id is None:
        return None
    return db.session.scalar(select(DpaVersion).join(DpaVersion.profile).where(
        DpaProfile.vendor_org_id == org_id, in_force_filter())
        .order_by(DpaVersion.number.desc()).limit(1))


def plan(assessment: Assessment, *, overwrite: bool) -> tuple[DpaVersion, list[PlannedAnswer]]:
    """Return the version used and what a prefill would do to each mapped item."""
    if assessment.questionnaire_id != PREFILL_QUESTIONNAIRE:
        raise PrefillNotOffered()
    if not answers_svc.is_editable(assessment):
        raise PrefillClosed()
    version = latest_version_of(assessment.vendor_org_id)
    if version is None:
        raise NoPublishedDpa()
    q = answers_svc.questionnaire_of(assessment)
    current = answers_svc.answers_of(assessment)
    planned = []
    for item_id, new in values_from_dpa(version.content or {}).items():
        old = current.get(item_id)
        # Checked here as the save service will, so a refused value never half-applies a prefill.
        problems = validate_answers(q, {item_id: new}).problems
        if problems:
            planned.append(PlannedAnswer(item_id, old, new, "invalid", problems[0].message))
            continue
        if old == new:
            action = "same"
        elif _is_empty(old):
            action = "fill"
        else:
            action = "overwrite" if overwrite else "keep"
        planned.append(PlannedAnswer(item_id, old, new, action))
    return version, planned


def item_labels(assessment: Assessment, planned: list[PlannedAnswer]) -> dict[str, Any]:
    """Return the question label (a locale map) of each planned item."""
    q = answers_svc.questionnaire_of(assessment)
    return {entry.item_id: q.item(entry.item_id).label for entry in planned}


def prefill(assessment: Assessment, *, overwrite: bool, by: User) -> list[str]:
    """Save the planned answers through the normal save service; return the items written."""
    version, planned = plan(assessment, overwrite=overwrite)
    rows = answers_svc.answer_rows(assessment)
    written = []
    for entry in planned:
        if entry.action not in ("fill", "overwrite"):
            continue
        seen = rows[entry.item_id].version if entry.item_id in rows else None
        answers_svc.save_answer(assessment, entry.item_id, entry.new, seen_version=seen,
                                request_id=None, by=by)
        written.append(entry.item_id)
    audit.record("dpa.prefilled", by=by, org=assessment.vendor_org_id, obj=assessment, details={
        "dpa_version_id": version.id, "number": version.number, "sha256": version.sha256,
        "items": written, "overwrite": overwrite})
    db.session.commit()
    return written
