"""Proposed sub-processor changes: announce, collect objections or authorisations, apply, withdraw.

Art. 28(2) GDPR: a processor engages another processor only with the controller's prior specific
or general written authorisation; under a general authorisation it informs the controller of an
intended addition or replacement, "thereby giving the controller the opportunity to object".
Clause 7.7 of Implementing Decision (EU) 2021/915 adds that the notice comes a set period before
the engagement. So a change is first *proposed*: the version listing the new sub-processors is
published with its objection deadline and a later effective date, and it comes into force for a
buyer only at that date, and only if the buyer did not object (general authorisation) or gave its
written authorisation (specific authorisation: silence is never consent). See docs/dpa.md.

Services take the acting user (`by=`), raise DomainErrors, commit and dispatch their e-mails.
`utcnow` is read through this module so tests can freeze the clock.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from vendorcheck import audit, mail
from vendorcheck.agreement.assemble import needs_transfer_tool
from vendorcheck.agreement.checks import (
    NO_OBJECTION_PERIOD,
    OBJECTION_SHORTER_THAN_NOTICE,
    objection_period_problem,
)
from vendorcheck.agreement.diff import SubprocessorChanges, subprocessor_changes
from vendorcheck.extensions import db
from vendorcheck.models import OutboxMessage, User, utcnow
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.models.dpa_changes import (
    APPLIED,
    AUTHORISED,
    GENERAL,
    MOVED,
    PENDING,
    REFUSED,
    SPECIFIC,
    WITHDRAWN,
    DpaChangeConsent,
    DpaChangeOutcome,
    DpaChangeProposal,
)
from vendorcheck.models.dpa_relations import DpaAcceptance
from vendorcheck.models.webhooks import WebhookDelivery
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.services import dpa as dpa_svc
from vendorcheck.services import dpa_notify, webhooks
from vendorcheck.services.dpa_proposals import (
    AlreadyDecided,
    BaseNotInForce,
    ChangeAlreadyPending,
    ChangeTookEffect,
    ChangeWithdrawn,
    DecisionClosed,
    DpaObjectionShorterThanNotice,
    EffectiveBeforeRequestPeriod,
    EffectiveTooEarly,
    EffectiveTooLate,
    NoObjectionPeriod,
    NoSubprocessorChange,
    NotAnEarlierAcceptance,
    NotSpecificAuthorisation,
    NoVersionInForce,
    ObjectionShorterThanNotice,
    UnknownDecision,
    _result_for,
    _rows,
    buyers_of_profile,
    changes_of,
    consent_of,
    in_force_version,
    pending_proposal,
)

# Clause values that arrive with the first sub-processors (absent while there are none).
SUBPROCESSOR_CLAUSES = ("subprocessor_authorisation", "notice_days", "flow_down")
# Stated by every version of a kind, but only printed under a general authorisation: it arrives
# with the first sub-processors too, so the notice and the objection period printed together are
# the draft's, which passed the publication checks together.
OBJECTION_CLAUSE = "objection_days"
# How far after the objection deadline an effective date may be set (typing mistakes).
MAX_DELAY = timedelta(days=366)
MAX_TEXT = 10_000




# ------------------------------------------------------------------------------ reading


# ------------------------------------------------------------------------------ proposing

@dataclass(frozen=True)
class ProposalPlan:
    """What proposing at `announced_at` would announce: the change, the rules in force, dates."""

    base: DpaVersion
    content: dict[str, Any]
    changes: SubprocessorChanges
    authorisation: str
    notice_days: int | None
    objection_days: int
    announced_at: datetime
    objection_in_text: bool = False  # stated by the version in force, else the settings'
    request_days: int | None = None  # specific authorisation: the request period in force

    @property
    def deadline(self) -> datetime:
        """Return the end of the objection period of a proposal made now."""
        return self.announced_at + timedelta(days=self.objection_days)

    @property
    def request_period_end(self) -> datetime | None:
        """Return when the request period the DPA in force promises ends, if it states one."""
        if self.request_days is None:
            return None
        return self.announced_at + timedelta(days=self.request_days)

    @property
    def earliest(self) -> date:
        """Return the first day (UTC) the change may take effect: after the deadline and, under
        specific authorisation, after the request period (Clause 7.7, Option 1)."""
        end = max(self.deadline, self.request_period_end or self.deadline)
        return end.date() + timedelta(days=1)

    @property
    def request_period_decides(self) -> bool:
        """Tell whether the request period, not the objection deadline, sets the earliest day."""
        end = self.request_period_end
        return end is not None and end.date() > self.deadline.date()

    @property
    def earliest_at(self) -> datetime:
        """Return the first moment the change may take effect (00:00 UTC of `earliest`)."""
        return _midnight(self.earliest)


def authorisation_in_force(content: dict[str, Any]) -> str:
    """Return the authorisation model of a version: general only if it says so and lists some.

    Without any sub-processor in force there is no list the controller authorised in general,
    so the first sub-processor needs its specific authorisation (Art. 28(2)).
    """
    clauses = content.get("clauses") or {}
    if content.get("subprocessors") and clauses.get("subprocessor_authorisation") == GENERAL:
        return GENERAL
    return SPECIFIC


def _days(content: dict[str, Any], key: str) -> int | None:
    """Return a number of days the clauses of a version state, if any."""
    value = (content.get("clauses") or {}).get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def notice_days_in_force(content: dict[str, Any]) -> int | None:
    """Return the notice period the version in force promises, if it states one."""
    return _days(content, "notice_days")


def request_days_in_force(content: dict[str, Any]) -> int | None:
    """Return the request period of a version under specific authorisation, if it states one.

    Clause 7.7, Option 1: the processor asks for the specific authorisation this many days before
    engaging the sub-processor, so the change cannot take effect sooner. Only versions of a kind
    state it (`clauses.request_days`); under a general authorisation the notice period applies.
    """
    if authorisation_in_force(content) != SPECIFIC:
        return None
    return _days(content, "request_days")


def objection_days_in_force(content: dict[str, Any], profile: DpaProfile) -> tuple[int, bool]:
    """Return the objection period and whether the DPA text itself states it.

    A period written in the version in force is a term of the contract and wins. Versions of a
    kind store it (`clauses.objection_days`, copied from the settings when published) and print
    it under a general authorisation; versions from before the kinds never state it, and under
    specific authorisation nobody objects: then the profile's setting applies.
    """
    value = _days(content, OBJECTION_CLAUSE)
    if value is not None and authorisation_in_force(content) == GENERAL:
        return value, True
    return profile.objection_days, False


def check_periods(authorisation: str, notice_days: int | None, objection_days: int, *,
                  in_text: bool = False) -> None:
    """Refuse an objection period the rule of the publication checks refuses (Clause 7.7):
    `dpa.checks.objection_period_problem`, applied to the version in force."""
    code = objection_period_problem(objection_days, notice_days, general=authorisation == GENERAL)
    if code == NO_OBJECTION_PERIOD:
        raise NoObjectionPeriod()
    if code == OBJECTION_SHORTER_THAN_NOTICE and notice_days is not None:
        error = DpaObjectionShorterThanNotice if in_text else ObjectionShorterThanNotice
        raise error(objection=objection_days, notice=notice_days)


def _transfers(q: Questionnaire, content: dict[str, Any]) -> bool:
    """Tell whether the processor or a listed sub-processor works outside the EEA."""
    group_of = q.country_groups.group_of if q.country_groups is not None else None
    places = list((content.get("processing") or {}).get("processing_locations") or [])
    places += [row.get("location") for row in content.get("subprocessors") or []]
    return any(needs_transfer_tool(code, group_of) for code in places)


def proposed_content(base: dict[str, Any], drafted: dict[str, Any],
                     q: Questionnaire) -> dict[str, Any]:
    """Return the version in force with the draft's sub-processors, and nothing else changed.

    Other edits stay in the draft: buyers who do not object are moved to the new version
    without signing it again, so it may differ from theirs only by the sub-processors.
    """
    content = copy.deepcopy(base)
    content["subprocessors"] = copy.deepcopy(drafted.get("subprocessors") or [])
    clauses = content.setdefault("clauses", {})
    if not base.get("subprocessors"):
        new_clauses = drafted.get("clauses") or {}
        for key in SUBPROCESSOR_CLAUSES:
            if key in new_clauses:
                clauses[key] = new_clauses[key]
        if OBJECTION_CLAUSE in clauses and OBJECTION_CLAUSE in new_clauses:
            clauses[OBJECTION_CLAUSE] = new_clauses[OBJECTION_CLAUSE]
    clauses["transfers_outside_eea"] = _transfers(q, content)
    return content


def plan(profile: DpaProfile, now: datetime | None = None) -> ProposalPlan:
    """Return what proposing the draft's sub-processors would announce, or raise why not."""
    now = now or utcnow()
    base = dpa_svc.latest_version(profile)
    if base is None:
        raise NoVersionInForce()
    pending = pending_proposal(profile.id)
    if pending is not None:
        raise ChangeAlreadyPending(number=pending.version.number,
                                   effective=dpa_notify.utc_text(pending.effective_at))
    check = dpa_svc.check_profile(profile)
    if not check.ok:
        raise dpa_svc.PublishBlocked(check)
    draft = dpa_svc.draft_of(profile)
    assert draft is not None  # check_profile raised otherwise
    drafted = dpa_svc.draft_content(profile)
    content = proposed_content(base.content, drafted, dpa_svc.draft_questionnaire(draft))
    changes = subprocessor_changes(_rows(base.content), _rows(content))
    if changes.is_empty:
        raise NoSubprocessorChange(number=base.number)
    authorisation = authorisation_in_force(base.content)
    notice_days = notice_days_in_force(base.content)
    objection_days, in_text = objection_days_in_force(base.content, profile)
    check_periods(authorisation, notice_days, objection_days, in_text=in_text)
    return ProposalPlan(base, content, changes, authorisation, notice_days, objection_days, now,
                        objection_in_text=in_text,
                        request_days=request_days_in_force(base.content))


def effective_moment(plan_: ProposalPlan, chosen: date | None) -> datetime:
    """Return the effective moment (00:00 UTC of the chosen day), refusing days out of range."""
    day = chosen or plan_.earliest
    values = {"earliest": dpa_notify.utc_text(plan_.earliest_at),
              "deadline": dpa_notify.utc_text(plan_.deadline)}
    if day < plan_.earliest and plan_.request_period_decides:
        raise EffectiveBeforeRequestPeriod(**values, request=plan_.request_days)
    if day < plan_.earliest:
        raise EffectiveTooEarly(**values)
    if _midnight(day) > plan_.deadline + MAX_DELAY:
        raise EffectiveTooLate(**values)
    return _midnight(day)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def propose(profile: DpaProfile, *, base_version_id: int, effective_on: date | None,
            by: User, now: datetime | None = None) -> DpaChangeProposal:
    """Publish the proposed version, record the proposal and send the notices."""
    now = now or utcnow()
    apply_due(profile_id=profile.id, now=now)
    plan_ = plan(profile, now)
    if plan_.base.id != base_version_id:
        raise BaseNotInForce(number=plan_.base.number)
    effective_at = effective_moment(plan_, effective_on)
    version = _new_version(profile, plan_, by=by, now=now)
    proposal = DpaChangeProposal(
        profile_id=profile.id, vendor_org_id=profile.vendor_org_id, version_id=version.id,
        base_version_id=plan_.base.id, authorisation=plan_.authorisation,
        notice_days=plan_.notice_days, objection_days=plan_.objection_days, proposed_at=now,
        proposed_by_id=by.id, effective_at=effective_at, status=PENDING)
    db.session.add(proposal)
    db.session.flush()
    audit.record("dpa.change_proposed", by=by, org=profile.vendor_org_id, obj=proposal, details={
        "number": version.number, "sha256": version.sha256, "base": plan_.base.number,
        "authorisation": plan_.authorisation, "effective_at": effective_at.isoformat(),
        "objection_deadline": proposal.objection_deadline.isoformat(),
        **_names(plan_.changes)})
    messages = dpa_notify.change_proposed(proposal, changes_of(proposal))
    hooks = webhooks.dpa_published_event(version) + webhooks.subprocessor_event(
        proposal, "proposed", _names(plan_.changes))
    db.session.commit()
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return proposal


def _names(changes: SubprocessorChanges) -> dict[str, list[str]]:
    return {"added": [str(r.get("name")) for r in changes.added],
            "removed": [str(r.get("name")) for r in changes.removed],
            "changed": [str(new.get("name")) for _old, new in changes.changed]}


def _new_version(profile: DpaProfile, plan_: ProposalPlan, *, by: User,
                 now: datetime) -> DpaVersion:
    """Insert the proposed version: the base's columns, the new content, the next number."""
    from vendorcheck.agreement.assemble import content_sha256

    keep = {c.key: getattr(plan_.base, c.key) for c in DpaVersion.__table__.columns
            if c.key not in ("id", "number", "published_at", "published_by_id", "sha256",
                             "content", "objection_days")}
    number = (db.session.scalar(select(func.max(DpaVersion.number))
                                .where(DpaVersion.profile_id == profile.id)) or 0) + 1
    version = DpaVersion(**keep, number=number, published_at=now, published_by_id=by.id,
                         sha256=content_sha256(plan_.content), content=plan_.content,
                         objection_days=plan_.objection_days)
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise dpa_svc.PublishConflict() from None
    audit.record("dpa.published", by=by, org=profile.vendor_org_id, obj=version, details={
        "slug": profile.slug, "number": number, "sha256": version.sha256,
        "questionnaire": f"{version.questionnaire_id}@{version.questionnaire_version}",
        "previous": plan_.base.number, "proposed_change": True})
    return version


# ------------------------------------------------------------------------------ withdrawing

def withdraw(proposal: DpaChangeProposal, *, by: User, reason: str = "",
             now: datetime | None = None) -> DpaChangeProposal:
    """Withdraw an announced change before its effective date and tell those who were told."""
    now = now or utcnow()
    apply_due(profile_id=proposal.profile_id, now=now)
    db.session.refresh(proposal)
    if proposal.status == APPLIED:
        raise ChangeTookEffect(effective=dpa_notify.utc_text(proposal.effective_at))
    if proposal.status == WITHDRAWN:
        assert proposal.withdrawn_at is not None
        raise ChangeWithdrawn(withdrawn=dpa_notify.utc_text(proposal.withdrawn_at))
    proposal.status, proposal.withdrawn_at, proposal.withdrawn_by_id = WITHDRAWN, now, by.id
    proposal.withdrawal_reason = reason.strip()[:MAX_TEXT] or None
    db.session.flush()
    audit.record("dpa.change_withdrawn", by=by, org=proposal.vendor_org_id, obj=proposal,
                 details={"number": proposal.version.number, "sha256": proposal.version.sha256,
                          "effective_at": proposal.effective_at.isoformat()})
    changes = changes_of(proposal)
    messages = dpa_notify.change_withdrawn(proposal, changes)
    hooks = webhooks.subprocessor_event(proposal, "withdrawn", _names(changes))
    db.session.commit()
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return proposal


# ------------------------------------------------------------------------------ buyer decisions

def check_can_decide(acceptance: DpaAcceptance, proposal: DpaChangeProposal) -> None:
    """Raise unless this acceptance's buyer may authorise or refuse the proposal now."""
    accepted = acceptance.version
    if accepted.profile_id != proposal.profile_id or \
            accepted.number >= proposal.version.number:
        raise NotAnEarlierAcceptance()
    if not proposal.is_specific:
        raise NotSpecificAuthorisation(vendor=proposal.vendor_org.name)
    if not proposal.is_pending:
        raise DecisionClosed()
    if consent_of(proposal.id, acceptance.buyer_org_id) is not None:
        raise AlreadyDecided()


def decide(acceptance: DpaAcceptance, proposal: DpaChangeProposal, decision: str, *,
           by: User, reason: str = "", now: datetime | None = None) -> DpaChangeConsent:
    """Record a buyer's written authorisation or refusal of a change (specific authorisation)."""
    now = now or utcnow()
    apply_due(profile_id=proposal.profile_id, now=now)
    db.session.refresh(proposal)
    check_can_decide(acceptance, proposal)
    if decision not in (AUTHORISED, REFUSED):
        raise UnknownDecision()
    consent = DpaChangeConsent(
        proposal_id=proposal.id, buyer_org_id=acceptance.buyer_org_id, decision=decision,
        reason=reason.strip()[:MAX_TEXT] or None, decided_by_id=by.id,
        decided_by_name=by.name[:200], decided_by_email=by.email[:254], decided_at=now,
        version_sha256=proposal.version.sha256)
    db.session.add(consent)
    try:
        db.session.flush()
    except IntegrityError:  # a double click raced us to the unique constraint
        db.session.rollback()
        raise AlreadyDecided() from None
    audit.record(f"dpa.change_{decision}", by=by, org=acceptance.buyer_org_id, obj=consent,
                 details={"proposal_id": proposal.id, "number": proposal.version.number,
                          "version_sha256": proposal.version.sha256,
                          "vendor_org_id": proposal.vendor_org_id,
                          "reason_given": consent.reason is not None})
    db.session.commit()
    return consent


# ------------------------------------------------------------------------------ applying


def _apply(proposal: DpaChangeProposal, now: datetime) -> list[OutboxMessage] | None:
    """Bring one due proposal into force and record each buyer's outcome (no commit).

    Returns the e-mails to send, or None when another worker applied the proposal first.
    """
    claimed = db.session.execute(
        update(DpaChangeProposal).where(DpaChangeProposal.id == proposal.id,
                                        DpaChangeProposal.status == PENDING)
        .values(status=APPLIED, applied_at=now).execution_options(synchronize_session=False))
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    db.session.refresh(proposal)
    outcomes = []
    for buyer_id in buyers_of_profile(proposal.profile_id):
        before = in_force_version(buyer_id, proposal.profile_id)
        if before is None:
            continue
        result = _result_for(proposal, buyer_id, before)
        outcome = DpaChangeOutcome(
            proposal_id=proposal.id, buyer_org_id=buyer_id, result=result,
            from_version_id=before.id,
            version_id=proposal.version_id if result == MOVED else before.id, recorded_at=now)
        db.session.add(outcome)
        outcomes.append(outcome)
    db.session.flush()
    audit.record("dpa.change_applied", org=proposal.vendor_org_id, obj=proposal, details={
        "number": proposal.version.number, "effective_at": proposal.effective_at.isoformat(),
        "results": dict(Counter(o.result for o in outcomes))})
    return dpa_notify.change_applied(proposal, outcomes)


def apply_due(*, profile_id: int | None = None, now: datetime | None = None
              ) -> list[DpaChangeProposal]:
    """Bring into force every announced change whose effective date has come; commit, mail."""
    now = now or utcnow()
    query = select(DpaChangeProposal).where(DpaChangeProposal.status == PENDING,
                                            DpaChangeProposal.effective_at <= now)
    if profile_id is not None:
        query = query.where(DpaChangeProposal.profile_id == profile_id)
    due = list(db.session.scalars(query.order_by(DpaChangeProposal.effective_at)))
    if not due:
        return []
    if not has_request_context():
        with current_app.test_request_context("/"):  # e-mailed links need URL building
            return _apply_all(due, now)
    return _apply_all(due, now)


def _apply_all(due: list[DpaChangeProposal], now: datetime) -> list[DpaChangeProposal]:
    messages: list[OutboxMessage] = []
    hooks: list[WebhookDelivery] = []
    applied = []
    for proposal in due:
        sent = _apply(proposal, now)
        if sent is not None:
            applied.append(proposal)
            messages += sent
            hooks += webhooks.subprocessor_event(proposal, "applied",
                                                 _names(changes_of(proposal)))
    db.session.commit()
    mail.dispatch(messages)
    webhooks.dispatch(hooks)
    return applied


__all__ = ["ProposalPlan", "apply_due", "decide", "plan", "propose", "withdraw"]
