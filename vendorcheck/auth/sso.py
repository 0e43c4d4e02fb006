"""Single sign-on views: e-mail-first discovery, the OpenID Connect callback, SAML metadata and ACS."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, render_template, request, session, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from vendorcheck import mail
from vendorcheck.access import home_url
from vendorcheck.auth.forms import LoginForm, SsoStartForm
from vendorcheck.auth.login_steps import note_device
from vendorcheck.auth.views import _start_session, bp, post_limit_per_ip
from vendorcheck.extensions import csrf, limiter
from vendorcheck.models import User
from vendorcheck.models.sso import SsoConfig, SsoProtocol
from vendorcheck.services import sso_config, sso_login, sso_oidc, sso_saml
from vendorcheck.services.sso_login import SsoRefused

PENDING_OIDC = "sso_oidc"
SAML_COOKIE = "vendorcheck_saml"
SAML_PENDING_FOR = 600  # seconds a started SAML sign-in may take


def sign_in_member(user: User, org_id: int) -> Response:
    """Start the session exactly as a password login does, acting for the organisation that vouched."""
    _start_session(user, org_id=org_id)
    note_device(user)  # a new browser is mailed about, whichever way the user signed in
    return redirect(home_url())


@bp.route("/sso", methods=["GET", "POST"])
@limiter.limit(post_limit_per_ip, methods=["POST"])
def sso_start() -> Any:
    """Find the provider of the address's domain and send the browser there."""
    form = SsoStartForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/login.html", form=LoginForm(), sso_form=form), status
    email = form.email.data.strip()
    try:
        cfg = sso_login.provider_for(email)
        if cfg.protocol == SsoProtocol.SAML:
            return _continue_to(url_for("auth.saml_login", slug=cfg.organisation.slug))
        url, pending = sso_oidc.begin(cfg, redirect_uri=mail.external_url("auth.oidc_callback"),
                                      login_hint=email)
    except SsoRefused as exc:
        form.email.errors = [exc.message]
        return render_template("auth/login.html", form=LoginForm(), sso_form=form), exc.status
    session[PENDING_OIDC] = pending.as_dict()
    return _continue_to(url)


def _continue_to(target: str) -> str:
    """Render the page that sends the browser on to the identity provider (see its template)."""
    return render_template("auth/sso_continue.html", target=target)


@bp.get("/sso/oidc/callback")
@limiter.limit(post_limit_per_ip)
def oidc_callback() -> Response:
    """The provider's answer: check it, then sign the member in (a refusal is a 4xx page)."""
    pending = sso_oidc.pending_from(session.pop(PENDING_OIDC, None))
    user = sso_oidc.finish(pending, request.args.to_dict(),
                           redirect_uri=mail.external_url("auth.oidc_callback"))
    assert pending is not None  # finish refused otherwise
    return sign_in_member(user, pending.org_id)


def _saml_config(slug: str) -> SsoConfig:
    """Return the SAML configuration of the organisation with this slug (404 otherwise)."""
    cfg = sso_config.config_for_slug(slug)
    if cfg is None or cfg.protocol != SsoProtocol.SAML:
        abort(404)
    return cfg


@bp.get("/saml/<slug>/metadata")
def saml_metadata(slug: str) -> Response:
    """Our service provider metadata for this organisation (its stable entity id)."""
    cfg = _saml_config(slug)
    return Response(sso_saml.sp_metadata(cfg), mimetype="application/samlmetadata+xml")


@bp.get("/saml/<slug>/login")
@limiter.limit(post_limit_per_ip)
def saml_login(slug: str) -> Response:
    """Send the browser to the identity provider with our AuthnRequest."""
    cfg = _saml_config(slug)
    location, request_id = sso_saml.begin(cfg)
    response = redirect(location)
    # The provider answers with a cross-site POST, which carries no SameSite=Lax session cookie: the
    # request id travels in its own signed, short-lived cookie (SameSite=None when served over https).
    secure = bool(current_app.config["SESSION_COOKIE_SECURE"])
    response.set_cookie(SAML_COOKIE, _saml_signer().dumps([cfg.organisation_id, request_id]),
                        max_age=SAML_PENDING_FOR, httponly=True, secure=secure,
                        samesite="None" if secure else "Lax", path="/auth/saml/")
    return response


@bp.post("/saml/<slug>/acs")
@limiter.limit(post_limit_per_ip)
def saml_acs(slug: str) -> Response:
    """The identity provider's signed answer to our request: check it, then sign the member in."""
    cfg = _saml_config(slug)
    user = sso_saml.finish(cfg, request.form.get("SAMLResponse", ""),
                           request_id=_pending_saml_request(cfg.organisation_id))
    response = sign_in_member(user, cfg.organisation_id)
    response.delete_cookie(SAML_COOKIE, path="/auth/saml/")
    return response


csrf.exempt(saml_acs)  # the identity provider posts here; the signed assertion and our request id protect it


def _saml_signer() -> URLSafeTimedSerializer:
    """Return the signer of the pending SAML request cookie."""
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="vendorcheck saml request")


def _pending_saml_request(org_id: int) -> str | None:
    """Return the id of the request this browser sent to this organisation's provider, if still valid."""
    try:
        value = _saml_signer().loads(request.cookies.get(SAML_COOKIE, ""), max_age=SAML_PENDING_FOR)
    except BadData:
        return None
    if not isinstance(value, list) or len(value) != 2 or value[0] != org_id:
        return None
    return str(value[1])
