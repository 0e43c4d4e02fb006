"""Reading an assessment: its pinned questionnaire, answers, progress, and whether it may still change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Vendor
from vendorcheck.models.assessments import (
    EDITABLE_STATUSES,
    Answer,
    Assessment,
    AssessmentStatus,
    Clarification,
    ClarificationState,
)
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.questionnaire.evaluate import Visibility
from vendorcheck.questionnaire.scoring import is_answered
from vendorcheck.services.errors import DomainError

S = AssessmentStatus
SUBMITTED_STATES = frozenset({S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED, S.DECIDED})
CLARIFIABLE = frozenset({S.SUBMITTED, S.IN_REVIEW, S.CLARIFICATION_REQUESTED})
MAX_JUSTIFICATION = 5000


class NotEditable(DomainError):
    """The assessment is submitted (or closed) and the item has no open clarification."""

    status = 409


def questionnaire_of(assessment: Assessment) -> Questionnaire:
    """Return the exact questionnaire version the assessment is pinned to."""
    return current_app.extensions["questionnaires"].get(
        assessment.questionnaire_id, assessment.questionnaire_version)


def answers_of(assessment: Assessment) -> dict[str, Any]:
    """Return the stored answers as the engine reads them."""
    return {a.item_id: a.value for a in assessment.answers if a.value is not None}


def answer_rows(assessment: Assessment) -> dict[str, Answer]:
    """Return the stored answer rows by item id."""
    return {a.item_id: a for a in assessment.answers}


def vendor_assessments(org: Organisation) -> list[Assessment]:
    """Return every assessment sent to this vendor organisation, by any buyer."""
    query = (select(Assessment).join(Assessment.vendor).where(
        Vendor.vendor_org_id == org.id, Assessment.status != S.DRAFT)
        .order_by(Assessment.due_date.is_(None), Assessment.due_date, Assessment.id.desc()))
    return list(db.session.scalars(query))


def open_clarifications(assessment: Assessment) -> dict[str, Clarification]:
    """Return open clarifications by item id."""
    return {c.item_id: c for c in assessment.clarifications if c.state is ClarificationState.OPEN}


def is_editable(assessment: Assessment, item_id: str | None = None) -> bool:
    """Tell whether the vendor may change answers (or this item's answer)."""
    if assessment.status in EDITABLE_STATUSES:
        return True
    return (item_id is not None and assessment.status in CLARIFIABLE
            and item_id in open_clarifications(assessment))


def check_editable(assessment: Assessment, item_id: str) -> None:
    """Raise NotEditable, saying why, unless the vendor may change this item's answer."""
    if is_editable(assessment, item_id):
        return
    if assessment.submitted_at is not None and assessment.status in SUBMITTED_STATES:
        day = assessment.submitted_at.date().isoformat()
        raise NotEditable(_l("Submitted on %(day)s — ask the buyer to reopen the assessment to "
                             "change answers.", day=day))
    raise NotEditable(_l("This assessment can no longer be changed."))


def section_progress(q: Questionnaire, vis: Visibility) -> dict[str, tuple[int, int]]:
    """Return (answered, counted) items per section: shown required items, and optional ones
    once answered (an optional question left blank does not keep a finished section below 100 %);
    notes do not count."""
    out: dict[str, tuple[int, int]] = {}
    for section in q.sections:
        shown = [i for i in section.items if i.kind.is_question and vis.is_visible(i.id)]
        answered = {i.id for i in shown if is_answered(i, vis.values.get(i.id), vis)}
        counted = [i for i in shown if i.id in answered or vis.is_required(i.id)]
        out[section.id] = (len(answered), len(counted))
    return out


def overall_progress(counts: Mapping[str, tuple[int, int]]) -> int:
    """Return the percentage of counted items answered, over every section (100 when none counts).

    Rounded down: 100 only when every required item is answered, never for 199 of 200.
    """
    shown = sum(total for _done, total in counts.values())
    return 100 * sum(done for done, _t in counts.values()) // shown if shown else 100


def progress_and_completeness(q: Questionnaire, vis: Visibility) -> tuple[int, float]:
    """Return `overall_progress(section_progress(q, vis))` and `completeness(q, vis)[0]` in one
    pass over the items, each shown item's answer checked once for both (on every autosave)."""
    visible, required, values = vis.visible, vis.required, vis.values
    done = counted = needed = filled = 0
    for item_id, kind, item in q.plan.kinds:  # the sections' items, in order
        if not visible.get(item_id, False):  # a required item is always a shown one
            continue
        must, question = required.get(item_id, False), kind.is_question
        if not (must or question):
            continue
        answered = kind.is_answered(item, values.get(item_id), vis)
        if question and (answered or must):
            counted, done = counted + 1, done + answered
        if must:
            needed, filled = needed + 1, filled + answered
    progress = 100 * done // counted if counted else 100
    return progress, round(filled / needed, 4) if needed else 1.0


def previous_submissions(into: Assessment) -> list[Assessment]:
    """Return this vendor organisation's submitted assessments of the same questionnaire."""
    org_id = into.vendor_org_id
    if org_id is None:
        return []
    query = (select(Assessment).join(Assessment.vendor).where(
        Vendor.vendor_org_id == org_id, Assessment.id != into.id,
        Assessment.questionnaire_id == into.questionnaire_id,
        Assessment.status.in_(SUBMITTED_STATES)).order_by(Assessment.submitted_at.desc()))
    return list(db.session.scalars(query))
