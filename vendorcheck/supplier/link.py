"""Answering by link, without an account: open a link, enter the one-time code, make an account.

The link's URL is the only one that carries its token: opening it moves the token into a cookie
scoped to the assessment's pages and redirects to a token-free URL. The answering pages
themselves are the members' (answering.py), let in by `link_access.answering`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from vendorcheck import link_access
from vendorcheck.extensions import limiter
from vendorcheck.forms import ConfirmForm
from vendorcheck.services import answer_links
from vendorcheck.services.errors import DomainError
from vendorcheck.supplier import forms as vf
from vendorcheck.supplier.blueprint import bp

OPEN_LIMIT = "30 per minute;300 per hour"  # per address: tokens cannot be guessed, nor tried in bulk
CODE_LIMIT = "10 per minute"

# What a closed link's page says, by status: its heading and the next step.
CLOSED = {404: "link_unknown", 410: "link_expired", 409: "link_submitted"}


def _no_referrer(response: Response) -> Response:
    """Keep a URL with a token out of any Referer (the page's links and its resources)."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/link/<token>", endpoint="link_open")
@limiter.limit(OPEN_LIMIT)
def link_open(token: str) -> Response:
    """Open a link: check it, move its token into a scoped cookie, go to the token-free page."""
    try:
        link = answer_links.open_link(token)
    except DomainError as exc:
        page = render_template("supplier/link_closed.html", kind=CLOSED.get(exc.status, "link_unknown"),
                               message=exc.message)
        return _no_referrer(Response(page, status=exc.status, mimetype="text/html"))
    response = redirect(url_for("supplier.assessment", assessment_id=link.assessment_id), 303)
    link_access.set_link_cookie(response, token, link.assessment_id)
    return _no_referrer(response)


@bp.route("/assessments/<int:assessment_id>/link/code", methods=["GET", "POST"], endpoint="link_code")
@link_access.holder_only
@limiter.limit(CODE_LIMIT, methods=["POST"])
def link_code(assessment_id: int) -> Any:
    """Mail the one-time code, or check it; then back to the questionnaire."""
    holder = link_access.current_holder()
    assert holder is not None
    form = vf.LinkCodeForm()
    if link_access.code_checked(holder):
        return redirect(url_for("supplier.assessment", assessment_id=assessment_id))
    status = 200
    if request.method == "POST" and request.form.get("send"):
        if ConfirmForm().validate_on_submit():
            answer_links.send_code(holder)
            flash(_("We e-mailed a code to %(email)s. It works for a few minutes.",
                    email=holder.email), "success")
            return redirect(url_for("supplier.link_code", assessment_id=assessment_id), 303)
    elif form.validate_on_submit():
        try:
            answer_links.check_code(holder, form.code.data)
        except DomainError as exc:
            form.code.errors = [exc.message]
            status = exc.status
        else:
            link_access.mark_code_checked(holder)
            flash(_("Thank you: you can now save your answers in this browser."), "success")
            return redirect(url_for("supplier.assessment", assessment_id=assessment_id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("supplier/link_code.html", form=form, holder=holder,
                           assessment_id=assessment_id), status


@bp.post("/assessments/<int:assessment_id>/link/account", endpoint="link_account")
@link_access.holder_only
def link_account(assessment_id: int) -> Any:
    """Turn the link into an account: an invitation for the contact, opened at once."""
    holder = link_access.current_holder()
    assert holder is not None
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("supplier.assessment", assessment_id=assessment_id))
    token = answer_links.account_invitation(holder)
    return _no_referrer(redirect(url_for("auth.accept_invitation", token=token), 303))
