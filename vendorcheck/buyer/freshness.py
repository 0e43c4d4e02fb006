"""Buyer pages read results that include the vendor's latest autosave."""

from __future__ import annotations

from vendorcheck.access import current_membership
from vendorcheck.services.assessments import refresh_stale


def refresh_buyer_results() -> None:
    """Before a buyer page: re-score the organisation's assessments an autosave left stale.

    One indexed query when nothing is stale (the usual case); otherwise each stale assessment is
    re-scored in its own short transaction.
    """
    membership = current_membership()
    if membership is not None and membership.organisation.is_buyer:
        refresh_stale(membership.organisation_id)
