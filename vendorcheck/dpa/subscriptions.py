"""Subscriptions to a vendor's sub-processor changes: subscribe, confirm, one-click unsubscribe (public)."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    render_template,
    request,
)
from sqlalchemy import select

from vendorcheck import mail
from vendorcheck.dpa import relations_forms as rf
from vendorcheck.dpa.blueprint import bp
from vendorcheck.errors import render_error
from vendorcheck.extensions import csrf, db, limiter
from vendorcheck.forms import form_page
from vendorcheck.i18n import current_locale
from vendorcheck.models.dpa import DpaProfile
from vendorcheck.services import dpa_acceptance as acceptance_svc
from vendorcheck.services import dpa_notify
from vendorcheck.services.errors import DomainError

SUBSCRIBE_LIMIT = "5/minute;30/hour"
# Per address too, so nobody can flood someone's inbox with confirmation e-mails from many IPs.
SUBSCRIBE_LIMIT_PER_EMAIL = "3/hour"
LINK_LIMIT = "30/minute"


def _email_key() -> str:
    """Rate-limit key for subscribing: the address asked for."""
    return "dpa-subscribe:" + (request.form.get("email") or "").strip().lower()[:254]


def _published_profile(slug: str) -> DpaProfile:
    """Return the profile behind a public slug if it published something, else 404."""
    if len(slug) > 80:
        abort(404)
    profile: DpaProfile | None = db.session.scalar(select(DpaProfile).where(
        DpaProfile.slug == slug))
    if profile is None or acceptance_svc.latest_version(profile.id) is None:
        abort(404)
    return profile


@bp.route("/<slug>/subscribe", methods=["GET", "POST"])
@limiter.limit(SUBSCRIBE_LIMIT_PER_EMAIL, key_func=_email_key, methods=["POST"])
@limiter.limit(SUBSCRIBE_LIMIT, methods=["POST"])
def subscribe(slug: str) -> Any:
    """Ask for sub-processor change notices; the answer never tells whether already subscribed."""
    profile = _published_profile(slug)
    form = rf.SubscribeForm()
    if request.method == "GET":
        form.language.data = current_locale()
    if not form.validate_on_submit():
        return form_page("dpa/subscribe.html", form=form, profile=profile)
    message = dpa_notify.subscribe(profile, form.email.data or "", form.language.data or "en")
    mail.dispatch([message])
    return render_template("dpa/subscribe_sent.html", profile=profile)


@bp.route("/subscriptions/<token>/confirm", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT, methods=["POST"])
def confirm_subscription(token: str) -> Any:
    """Show the confirmation button (link scanners only GET), then confirm on POST."""
    try:
        subscription, _locale = dpa_notify.subscription_for_confirm(token)
    except DomainError as exc:
        return render_error(exc.status, exc.message)
    form = rf.ConfirmForm()
    if not form.validate_on_submit():
        return form_page("dpa/confirm.html", status_on_post=400, form=form,
                          subscription=subscription)
    try:
        subscription = dpa_notify.confirm(token)
    except DomainError as exc:
        return render_error(exc.status, exc.message)
    return render_template("dpa/confirmed.html", subscription=subscription,
                           profile=_profile_of(subscription.vendor_org_id))


def _profile_of(vendor_org_id: int) -> DpaProfile | None:
    return db.session.scalar(select(DpaProfile).where(DpaProfile.vendor_org_id == vendor_org_id))


@bp.route("/subscriptions/<token>/unsubscribe", methods=["GET", "POST"])
@limiter.limit(LINK_LIMIT, methods=["POST"])
def unsubscribe(token: str) -> Any:
    """GET: ask to confirm (so link scanners do not unsubscribe); POST: unsubscribe at once."""
    try:
        subscription = dpa_notify.subscription_for_unsubscribe(token)
    except DomainError as exc:
        return render_error(exc.status, exc.message)
    if request.method == "POST":
        dpa_notify.unsubscribe(subscription)
        return render_template("dpa/unsubscribed.html", subscription=subscription,
                               profile=_profile_of(subscription.vendor_org_id))
    return render_template("dpa/unsubscribe.html", subscription=subscription,
                           token=token)


# RFC 8058 one-click unsubscribe: mail clients POST "List-Unsubscribe=One-Click" to this URL with
# no session and no CSRF token. The signed token in the URL is the credential, so CSRF adds nothing.
csrf.exempt(unsubscribe)
