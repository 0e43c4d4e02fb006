"""What every template needs about DPAs: kind labels, subscription and acceptance buttons, proposals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vendorcheck.access import can, current_membership
from vendorcheck.agreement.assemble import (
    LEGACY_KIND,
    OWN_WORDS,
    SCC_REFERENCE,
    document_kind,
)
from vendorcheck.dpa import relations_forms as rf
from vendorcheck.dpa.blueprint import bp
from vendorcheck.i18n import current_locale
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.models.dpa_changes import APPLIED
from vendorcheck.services import dpa_notify, dpa_prefill, dpa_proposals

KIND_LABELS = {
    LEGACY_KIND: _l("Earlier format (published before the two kinds of document)"),
    SCC_REFERENCE: _l("The Commission's standard contractual clauses, by reference"),
    OWN_WORDS: _l("DPA in the processor's own words"),
}


@bp.app_context_processor
def _kind_helpers() -> dict[str, Any]:
    """Let every DPA page name the kind of a stored document in words."""
    return {"dpa_kind_label": lambda content: str(KIND_LABELS[document_kind(content or {})])}


@bp.app_context_processor
def _dpa_relation_helpers() -> dict[str, Any]:
    """Give every template (dpa-core's public pages included) what the includes need."""
    return {"dpa_subscribe_form": _subscribe_form_for, "dpa_can_accept": _can_accept,
            "dpa_outcome_labels": dpa_notify.outcome_labels,
            "dpa_review_link": dpa_prefill.link_of, "dpa_prefill_offered": _prefill_offered}


def _prefill_offered(assessment: Assessment) -> bool:
    """Tell whether the vendor could prefill this assessment from a published DPA."""
    return (assessment.questionnaire_id == dpa_prefill.PREFILL_QUESTIONNAIRE
            and dpa_prefill.latest_version_of(assessment.vendor_org_id) is not None)


def _subscribe_form_for() -> rf.SubscribeForm:
    """Return an empty subscription form (the public sub-processor page includes it)."""
    form = rf.SubscribeForm(formdata=None)
    form.language.data = current_locale()
    return form


def _can_accept() -> bool:
    """Tell whether the visitor may accept a DPA for the active buyer organisation."""
    return bool(current_user.is_authenticated and can(current_membership(), "dpa.accept"))


@bp.app_template_filter("utc")
def _utc(moment: datetime | None) -> str:
    """Show a moment in UTC with the zone named, in the page's language."""
    return dpa_notify.utc_text(moment) if moment is not None else ""


@bp.app_context_processor
def _change_helpers() -> dict[str, Any]:
    """Give templates (public DPA pages included) the proposals they show."""
    return {"dpa_proposals_by_version": dpa_proposals.proposals_by_version,
            "dpa_pending_change": dpa_proposals.pending_proposal,
            "dpa_changes_of": dpa_proposals.changes_of,
            "dpa_pending_for_buyer": dpa_proposals.pending_for_buyer,
            "dpa_in_force_version": dpa_proposals.in_force_version,
            "dpa_version_in_force": _version_in_force}


def _version_in_force(version: DpaVersion) -> bool:
    """Tell whether a version came into force (not a pending or withdrawn proposal)."""
    proposal = dpa_proposals.proposal_of_version(version.id)
    return proposal is None or proposal.status == APPLIED
