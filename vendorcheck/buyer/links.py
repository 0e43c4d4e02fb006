"""Buyer views of answer links: withdraw a contact's link (with confirmation)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck.access import get_owned_or_404, requires
from vendorcheck.buyer.blueprint import bp
from vendorcheck.buyer.review_forms import ConfirmForm
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment
from vendorcheck.models.links import AnswerLink
from vendorcheck.services import answer_links


@bp.route("/assessments/<int:assessment_id>/links/<int:link_id>/revoke", methods=["GET", "POST"])
@requires("assessments.manage")
def revoke_link(assessment_id: int, link_id: int) -> Any:
    """Confirm, then withdraw one contact's link to answer without an account."""
    assessment = get_owned_or_404(Assessment, assessment_id, "buyer_org_id")
    link = db.session.get(AnswerLink, link_id)
    if link is None or link.assessment_id != assessment.id:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        answer_links.revoke_link(link, by=current_user)
        flash(_("The link of %(email)s no longer works.", email=link.email), "success")
        return redirect(url_for("buyer.assessment", assessment_id=assessment.id, _anchor="links"))
    return render_template("buyer/assessments/revoke_link.html", assessment=assessment, link=link,
                           form=form)
