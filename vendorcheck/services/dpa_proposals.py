"""What is proposed and what is in force: announced sub-processor changes, buyers' answers, the rules
a direct publication must keep, and the errors of the change flow (read side; `dpa_changes` writes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from vendorcheck.agreement.checks import (
    NO_OBJECTION_PERIOD,
    OBJECTION_SHORTER_THAN_NOTICE,
    objection_period_rule,
    sentences,
)
from vendorcheck.agreement.diff import SubprocessorChanges, subprocessor_changes
from vendorcheck.extensions import db
from vendorcheck.i18n import plain_text
from vendorcheck.models import Organisation
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.models.dpa_changes import (
    APPLIED,
    AUTHORISED,
    KEPT_NOT_AUTHORISED,
    KEPT_OBJECTED,
    KEPT_OTHER_VERSION,
    KEPT_REFUSED,
    MOVED,
    PENDING,
    DpaChangeConsent,
    DpaChangeOutcome,
    DpaChangeProposal,
)
from vendorcheck.models.dpa_relations import DpaAcceptance, DpaObjection
from vendorcheck.services import dpa_notify
from vendorcheck.services.errors import DomainError

# An objection the vendor recorded as withdrawn no longer keeps the buyer on the old version.
WITHDRAWN_OBJECTION = "objection_withdrawn"
# What to do when the objection period of the settings does not fit the DPA in force.
SETTINGS_FIRST = _l("Lengthen the objection period in the settings first.")


class ChangeError(DomainError):
    """A rule on proposed changes refused the action; the message reads outside a request too."""

    status = 409

    def __init__(self, message: object | None = None, **values: Any) -> None:
        text = plain_text(message if message is not None else self.default)
        super().__init__(text % values if values else text)


class NoVersionInForce(ChangeError):
    default = _l("Publish a first version of your DPA before proposing a change of "
                 "sub-processors.")


class NoSubprocessorChange(ChangeError):
    default = _l("Your draft lists the same sub-processors as version %(number)s in force: "
                 "there is no change to propose.")


class ChangeAlreadyPending(ChangeError):
    default = _l("A change of sub-processors is already announced (version %(number)s, in "
                 "force from %(effective)s). Withdraw it before proposing another one.")


class BaseNotInForce(ChangeError):
    default = _l("Version %(number)s is no longer the version in force; reload the page and "
                 "check the change again.")


class ObjectionShorterThanNotice(ChangeError):
    """The objection period (from the settings) does not cover the notice of the DPA in force."""

    status = 422
    remedy = SETTINGS_FIRST

    def __init__(self, *, objection: int, notice: int) -> None:
        super().__init__(sentences(objection_period_rule(
            OBJECTION_SHORTER_THAN_NOTICE, objection_days=objection, notice_days=notice),
            self.remedy))


class DpaObjectionShorterThanNotice(ObjectionShorterThanNotice):
    """The same, when the version in force states both periods: the settings cannot help."""

    remedy = _l("These periods are the ones your DPA states: publish a version that fixes them "
                "first.")


class NoObjectionPeriod(ChangeError):
    status = 422
    default = sentences(objection_period_rule(NO_OBJECTION_PERIOD, objection_days=0,
                                              notice_days=None), SETTINGS_FIRST)


class EffectiveTooEarly(ChangeError):
    status = 422
    default = _l("The change can take effect on %(earliest)s at the earliest: after the end of "
                 "the objection period (%(deadline)s).")


class EffectiveBeforeRequestPeriod(EffectiveTooEarly):
    default = _l("The change can take effect on %(earliest)s at the earliest: your DPA asks for "
                 "each controller's authorisation %(request)s days before a sub-processor is "
                 "engaged.")


class EffectiveTooLate(ChangeError):
    status = 422
    default = _l("Choose an effective date less than a year after the end of the objection "
                 "period (%(deadline)s).")


class ChangeTookEffect(ChangeError):
    default = _l("This change took effect on %(effective)s; it can no longer be withdrawn. "
                 "Propose a new change to undo it.")


class ChangeWithdrawn(ChangeError):
    default = _l("This proposed change was withdrawn on %(withdrawn)s.")


class NeedsProposal(ChangeError):
    default = _l("This version changes your sub-processors. Under Art. 28(2) GDPR your "
                 "customers must be told of the change before it applies: propose it from the "
                 "page “Sub-processor changes”. It takes effect after the objection period.")


class PublishWhilePending(ChangeError):
    default = _l("A change of sub-processors is announced and takes effect on %(effective)s. "
                 "Publish other changes after that date, or withdraw the proposed change first.")


class NotSpecificAuthorisation(ChangeError):
    default = _l("Your agreement gives %(vendor)s a general authorisation: this change needs "
                 "no authorisation. If you disagree with it, object before the deadline.")


class DecisionClosed(ChangeError):
    default = _l("This proposed change is no longer open for a decision: it took effect or was "
                 "withdrawn.")


class AlreadyDecided(ChangeError):
    default = _l("Your organisation already recorded its decision on this change.")


class UnknownDecision(ChangeError):
    status = 422
    default = _l("Choose whether you authorise or refuse the change.")


class NotAnEarlierAcceptance(ChangeError):
    default = _l("This change concerns a version newer than the one your organisation accepted.")


def proposal_of_version(version_id: int) -> DpaChangeProposal | None:
    """Return the proposal a version was published for, if any."""
    return db.session.scalar(select(DpaChangeProposal).where(
        DpaChangeProposal.version_id == version_id))


def pending_proposal(profile_id: int) -> DpaChangeProposal | None:
    """Return the profile's announced change that has neither taken effect nor been withdrawn."""
    return db.session.scalar(select(DpaChangeProposal).where(
        DpaChangeProposal.profile_id == profile_id, DpaChangeProposal.status == PENDING)
        .order_by(DpaChangeProposal.id.desc()).limit(1))


def proposals_of(profile_id: int) -> list[DpaChangeProposal]:
    """Return a profile's proposals, newest first."""
    return list(db.session.scalars(select(DpaChangeProposal).where(
        DpaChangeProposal.profile_id == profile_id).order_by(DpaChangeProposal.id.desc())))


def proposals_by_version(profile_id: int) -> dict[int, DpaChangeProposal]:
    """Return the profile's proposals keyed by the id of the version they carry."""
    return {p.version_id: p for p in proposals_of(profile_id)}


def is_in_force(version: DpaVersion, proposals: dict[int, DpaChangeProposal]) -> bool:
    """Tell whether a version ever came into force (not a pending or withdrawn proposal)."""
    proposal = proposals.get(version.id)
    return proposal is None or proposal.status == APPLIED


def predecessors(listed: list[DpaVersion],
                 proposals: dict[int, DpaChangeProposal]) -> dict[int, DpaVersion]:
    """Return, per version number, the version it changed: the base of a proposal, else the
    version in force just before it."""
    by_id = {v.id: v for v in listed}
    out: dict[int, DpaVersion] = {}
    previous: DpaVersion | None = None
    for version in sorted(listed, key=lambda v: v.number):
        proposal = proposals.get(version.id)
        before = by_id.get(proposal.base_version_id) if proposal else previous
        if before is not None:
            out[version.number] = before
        if is_in_force(version, proposals):
            previous = version
    return out


def _rows(content: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((content or {}).get("subprocessors") or [])


def changes_between(old: DpaVersion | None, new: DpaVersion) -> SubprocessorChanges:
    """Return the sub-processor changes from one version to another (from nothing if None)."""
    return subprocessor_changes(_rows(old.content if old is not None else None),
                                _rows(new.content))


def changes_of(proposal: DpaChangeProposal) -> SubprocessorChanges:
    """Return what a proposal adds, removes and changes."""
    return changes_between(proposal.base_version, proposal.version)


def buyers_of_profile(profile_id: int) -> list[int]:
    """Return the buyer organisations that accepted some version of this DPA."""
    return list(db.session.scalars(
        select(DpaAcceptance.buyer_org_id).join(DpaAcceptance.version)
        .where(DpaVersion.profile_id == profile_id)
        .group_by(DpaAcceptance.buyer_org_id).order_by(DpaAcceptance.buyer_org_id)))


def in_force_version(buyer_org_id: int, profile_id: int) -> DpaVersion | None:
    """Return the version binding a buyer: its newest acceptance or the newest change it got."""
    accepted = (select(DpaAcceptance.dpa_version_id).join(DpaAcceptance.version).where(
        DpaAcceptance.buyer_org_id == buyer_org_id, DpaVersion.profile_id == profile_id))
    moved = (select(DpaChangeOutcome.version_id).join(DpaChangeOutcome.proposal).where(
        DpaChangeOutcome.buyer_org_id == buyer_org_id, DpaChangeOutcome.result == MOVED,
        DpaChangeProposal.profile_id == profile_id))
    return db.session.scalar(select(DpaVersion).where(DpaVersion.id.in_(accepted.union(moved)))
                             .order_by(DpaVersion.number.desc()).limit(1))


def consent_of(proposal_id: int, buyer_org_id: int) -> DpaChangeConsent | None:
    """Return a buyer's authorisation or refusal of a proposal."""
    return db.session.scalar(select(DpaChangeConsent).where(
        DpaChangeConsent.proposal_id == proposal_id,
        DpaChangeConsent.buyer_org_id == buyer_org_id))


def outcome_of(proposal_id: int, buyer_org_id: int) -> DpaChangeOutcome | None:
    """Return what an applied proposal did for a buyer."""
    return db.session.scalar(select(DpaChangeOutcome).where(
        DpaChangeOutcome.proposal_id == proposal_id,
        DpaChangeOutcome.buyer_org_id == buyer_org_id))


def objection_of(proposal: DpaChangeProposal, buyer_org_id: int) -> DpaObjection | None:
    """Return a buyer's objection to the proposed version, if any."""
    return db.session.scalar(select(DpaObjection).where(
        DpaObjection.dpa_version_id == proposal.version_id,
        DpaObjection.buyer_org_id == buyer_org_id))


@dataclass(frozen=True)
class BuyerState:
    """Where one accepting buyer stands on a proposed change (shown to the vendor)."""

    buyer: Organisation
    in_force: DpaVersion | None
    objection: DpaObjection | None
    consent: DpaChangeConsent | None
    outcome: DpaChangeOutcome | None
    result: str  # what the change did (applied) or would do now (pending) for this buyer

    @property
    def answer(self) -> str:
        """Return the buyer's answer: objected, authorised, refused or silent."""
        if self.objection is not None:
            return "objected"
        if self.consent is not None:
            return self.consent.decision
        return "silent"


def buyer_states(proposal: DpaChangeProposal) -> list[BuyerState]:
    """Return the state of every buyer that accepted this DPA, by name."""
    states = []
    for buyer_id in buyers_of_profile(proposal.profile_id):
        buyer = db.session.get(Organisation, buyer_id)
        if buyer is None:
            continue
        in_force = in_force_version(buyer_id, proposal.profile_id)
        outcome = outcome_of(proposal.id, buyer_id)
        result = outcome.result if outcome is not None else _result_for(proposal, buyer_id,
                                                                         in_force)
        states.append(BuyerState(buyer, in_force, objection_of(proposal, buyer_id),
                                 consent_of(proposal.id, buyer_id), outcome, result))
    return sorted(states, key=lambda s: s.buyer.name.casefold())


@dataclass(frozen=True)
class PendingForBuyer:
    """A proposed change a buyer is asked about, with its acceptance and its answer so far."""

    proposal: DpaChangeProposal
    acceptance: DpaAcceptance
    objection: DpaObjection | None
    consent: DpaChangeConsent | None


def pending_for_buyer(buyer_org_id: int) -> list[PendingForBuyer]:
    """Return the announced changes of the DPAs this buyer accepted, soonest first."""
    profiles = (select(DpaVersion.profile_id).join(
        DpaAcceptance, DpaAcceptance.dpa_version_id == DpaVersion.id)
        .where(DpaAcceptance.buyer_org_id == buyer_org_id))
    query = (select(DpaChangeProposal).where(DpaChangeProposal.status == PENDING,
                                             DpaChangeProposal.profile_id.in_(profiles))
             .order_by(DpaChangeProposal.effective_at, DpaChangeProposal.id))
    rows = []
    for proposal in db.session.scalars(query):
        acceptance = dpa_notify.latest_acceptance(buyer_org_id, proposal.version)
        if acceptance is None:  # accepted only versions after this one
            continue
        rows.append(PendingForBuyer(proposal, acceptance, objection_of(proposal, buyer_org_id),
                                    consent_of(proposal.id, buyer_org_id)))
    return rows


def check_direct_publish(profile: DpaProfile, previous: DpaVersion | None,
                         content: dict[str, Any]) -> None:
    """Refuse publishing a version directly while a change is pending or when it changes the
    sub-processors (those go through a proposal)."""
    pending = pending_proposal(profile.id)
    if pending is not None:
        raise PublishWhilePending(effective=dpa_notify.utc_text(pending.effective_at))
    if previous is not None and \
            not subprocessor_changes(_rows(previous.content), _rows(content)).is_empty:
        raise NeedsProposal()


def _result_for(proposal: DpaChangeProposal, buyer_org_id: int,
                in_force: DpaVersion | None) -> str:
    """Decide what the change does for one buyer at its effective date."""
    if in_force is None or in_force.id != proposal.base_version_id:
        return KEPT_OTHER_VERSION
    objection = objection_of(proposal, buyer_org_id)
    if objection is not None and objection.outcome != WITHDRAWN_OBJECTION:
        return KEPT_OBJECTED
    if not proposal.is_specific:
        return MOVED  # general authorisation: no objection means the change applies
    consent = consent_of(proposal.id, buyer_org_id)
    if consent is None:
        return KEPT_NOT_AUTHORISED  # silence is never consent under specific authorisation
    return MOVED if consent.decision == AUTHORISED else KEPT_REFUSED
