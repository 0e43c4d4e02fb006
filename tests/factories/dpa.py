"""Factories for DPA tests: complete answers, a draft with answers, a published version.

Call inside an app context. `publish_dpa` is shared with the DPA notification and acceptance tests.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from tests.factories.accounts import make_user
from tests.factories.questionnaires import embedded_answers_as_written
from vendorcheck.agreement.assemble import DEFAULT_KIND
from vendorcheck.agreement.diff import subprocessor_changes
from vendorcheck.extensions import db
from vendorcheck.models import Membership, Organisation, Role, User
from vendorcheck.models.assessments import Answer, Assessment
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.questionnaire import validate_answers
from vendorcheck.services import dpa as svc
from vendorcheck.services import dpa_changes

COMPLETE_SET = "complete_eu_processor_is_low_risk"
# Annex IV rows as the publication checks want them: a contact person and, for each row, the
# part of the processing it carries out (the delimitation of responsibilities).
OVH = {"name": "OVH SAS", "address": "2 rue Kellermann, 59100 Roubaix", "country": "FR",
       "activity": "Infrastructure hosting", "location": "FR",
       "contact": "Data protection officer, dpo@ovh.net",
       "responsibilities": "Hosts the servers and their backups; no access to the application."}
MAILER = {"name": "Mailer Inc.", "address": "1 Market St, San Francisco", "country": "US",
          "activity": "Transactional e-mail", "location": "US", "transfer_tool": "scc_2021",
          "contact": "Privacy team, privacy@mailer.example",
          "responsibilities": "Sends the e-mails the application triggers; keeps delivery logs "
                              "30 days."}
NEWCO = {"name": "NewCo GmbH", "address": "Hauptstr. 1, Berlin", "country": "DE",
         "activity": "Support desk", "location": "DE",
         "contact": "Anna Schmidt, data protection officer, privacy@newco.example",
         "responsibilities": "Answers support tickets; reads only the data a ticket shows."}
# Under prior specific authorisation (or with no sub-processor yet) the DPA states how many days
# before engaging a sub-processor the processor asks for the controller's written authorisation.
REQUEST_DAYS = 30
_DEFAULT: Any = object()


def complete_answers(subprocessors: list[dict[str, Any]] | None = None,
                     **overrides: Any) -> dict[str, Any]:
    """Return a complete, publishable answer set (an EU processor), with optional changes."""
    answers = embedded_answers_as_written(COMPLETE_SET, svc.DPA_QUESTIONNAIRE)
    if subprocessors is not None:
        answers["subprocessors"] = copy.deepcopy(subprocessors)
        answers["uses_subprocessors"] = "yes" if subprocessors else "no"
        if not subprocessors:
            for key in ("subprocessors", "subprocessor_authorisation", "notice_days", "flow_down"):
                answers.pop(key, None)
            answers["authorisation_request_days"] = REQUEST_DAYS  # Clause 7.7, Option 1
    answers.update(overrides)
    return answers


def publisher_of(org: Organisation) -> User:
    """Return an admin of the organisation, creating one when it has none."""
    user = db.session.scalar(select(User).join(Membership).where(
        Membership.organisation_id == org.id, Membership.role == Role.ADMIN).limit(1))
    if user is not None:
        return user
    return make_user(f"dpa-admin-{org.id}@vendor.example", org=org, role=Role.ADMIN,
                     name="DPA Admin")


def set_draft_answers(org: Organisation, answers: dict[str, Any], *,
                      by: User | None = None) -> Assessment:
    """Start (or reuse) the organisation's draft and replace its answers."""
    org = db.session.get(Organisation, org.id) or org  # world objects are detached
    by = by or publisher_of(org)
    draft = svc.start_draft(org, by=by)
    q = svc.draft_questionnaire(draft)
    checked = validate_answers(q, answers)
    assert not checked.problems, checked.problems
    for answer in list(draft.answers):
        db.session.delete(answer)
    db.session.flush()
    for item_id, value in checked.answers.items():
        db.session.add(Answer(assessment_id=draft.id, item_id=item_id, value=value,
                              updated_by_id=by.id))
    db.session.commit()
    db.session.refresh(draft)
    return draft


def publish_dpa(world_or_session: Any, vendor_org: Organisation,
                answers: dict[str, Any] | None = None,
                subprocessors: list[dict[str, Any]] | None = _DEFAULT, *,
                by: User | None = None, apply_change: bool = True,
                kind: str = DEFAULT_KIND) -> DpaVersion:
    """Publish a DPA version of one kind for `vendor_org` (complete EU answers unless given).

    A later version that changes the sub-processors is proposed (notices go out), then, unless
    `apply_change` is false, brought into force at once as if its effective date had come.
    `world_or_session` is accepted for symmetry with the other factories and not used.
    """
    subs = [OVH] if subprocessors is _DEFAULT else subprocessors
    values = answers if answers is not None else complete_answers(subs)
    vendor_org = db.session.get(Organisation, vendor_org.id) or vendor_org
    by = by or publisher_of(vendor_org)
    set_draft_answers(vendor_org, values, by=by)
    profile = svc.profile_of(vendor_org)
    assert profile is not None
    current = svc.latest_version(profile)
    if current is None or not _changes_subprocessors(profile, current):
        return svc.publish(profile, by=by, kind=kind)
    proposal = dpa_changes.propose(profile, base_version_id=current.id, effective_on=None, by=by)
    if apply_change:
        dpa_changes.apply_due(profile_id=profile.id, now=proposal.effective_at)
    return proposal.version


def _changes_subprocessors(profile: Any, current: DpaVersion) -> bool:
    """Tell whether the draft lists other sub-processors than the version in force."""
    drafted = svc.draft_content(profile)
    return not subprocessor_changes(current.content.get("subprocessors") or [],
                                drafted.get("subprocessors") or []).is_empty


__all__ = ["MAILER", "NEWCO", "OVH", "REQUEST_DAYS", "complete_answers", "publish_dpa",
           "publisher_of", "set_draft_answers"]
