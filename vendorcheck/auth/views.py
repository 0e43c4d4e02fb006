"""Account views: thin wrappers around vendorcheck.services.accounts and .invitations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from vendorcheck.access import home_url
from vendorcheck.auth.forms import (
    AcceptForm,
    AcceptSignupForm,
    ChangePasswordForm,
    LoginForm,
    LogoutForm,
    ProfileForm,
    ResetForm,
    ResetRequestForm,
    SignupForm,
)
from vendorcheck.extensions import limiter
from vendorcheck.models import User
from vendorcheck.security import is_safe_next
from vendorcheck.services import accounts, invitations
from vendorcheck.services.errors import (
    InvalidCredentials,
    ValidationFailed,
    WrongInvitee,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")

POST_LIMIT_PER_EMAIL = "5/minute;50/hour"
POST_LIMIT_PER_IP = "20/minute"


def _email_key() -> str:
    """Rate-limit key for login and reset: the e-mail address tried."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def _start_session(user: User, remember: bool = False, org_id: int | None = None) -> None:
    """Start a fresh session for the user (no fixation), keeping the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    if org_id:
        session["org_id"] = org_id
    g.pop("membership", None)
    login_user(user, remember=remember)


def _form_page(template: str, form: Any, **context: Any) -> tuple[str, int]:
    """Render a form page: 422 when a submitted form was refused, 200 otherwise."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT_PER_EMAIL, key_func=_email_key, methods=["POST"])
@limiter.limit(POST_LIMIT_PER_IP, methods=["POST"])
def login() -> Any:
    """Log in with e-mail and password; go to `next` only if it is a local path."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except InvalidCredentials as exc:
            form.form_errors.append(exc.message)
        else:
            _start_session(user, remember=bool(form.remember.data))
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else home_url())
    return _form_page("auth/login.html", form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log out and clear the session."""
    if LogoutForm().validate_on_submit():
        accounts.record_logout(by=current_user)
        logout_user()
        session.clear()
        flash(_("You are logged out."), "success")
    return redirect(url_for("public.index"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT_PER_IP, methods=["POST"])
def signup() -> Any:
    """Create a buyer organisation; the first user becomes its administrator."""
    form = SignupForm()
    if form.validate_on_submit():
        data = accounts.SignupData(org_name=form.org_name.data, country=form.country.data,
                                   name=form.name.data, email=form.email.data,
                                   password=form.password.data, locale=form.locale.data)
        try:
            user = accounts.signup_buyer(data)
        except ValidationFailed as exc:
            form.email.errors.append(exc.message)
        else:
            _start_session(user)
            flash(_("Welcome! Your organisation is ready; start by registering a vendor."),
                  "success")
            return redirect(home_url())
    return _form_page("auth/signup.html", form)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT_PER_EMAIL, key_func=_email_key, methods=["POST"])
@limiter.limit(POST_LIMIT_PER_IP, methods=["POST"])
def reset_request() -> Any:
    """Ask for a reset link; the answer never tells whether the account exists."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        flash(_("If an account exists for this address, we have sent it a link to choose a new "
                "password. The link is valid for one hour."), "success")
        return redirect(url_for("auth.login"))
    return _form_page("auth/reset_request.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT_PER_IP, methods=["POST"])
def reset_password(token: str) -> Any:
    """Choose a new password through an e-mailed link."""
    accounts.check_reset_token(token)
    form = ResetForm()
    if form.validate_on_submit():
        accounts.reset_password(token, form.password.data)
        flash(_("Your password was changed. Log in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return _form_page("auth/reset.html", form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    """Change one's own password; other sessions end, this one continues."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(form.current.data, form.password.data, by=current_user)
        except ValidationFailed as exc:
            form.current.errors.append(exc.message)
        else:
            _start_session(current_user._get_current_object(), org_id=session.get("org_id"))
            flash(_("Your password was changed. Other sessions were logged out."), "success")
            return redirect(url_for("auth.profile"))
    return _form_page("auth/change_password.html", form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    """Show and edit one's name and preferred language."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        accounts.update_profile(form.name.data, form.locale.data, by=current_user)
        session["lang"] = form.locale.data
        flash(_("Your profile was saved."), "success")
        return redirect(url_for("auth.profile"))
    return _form_page("auth/profile.html", form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT_PER_IP, methods=["POST"])
def accept_invitation(token: str) -> Any:
    """Open an invitation link: sign up, log in, or accept as the invited address."""
    invitation = invitations.find_invitation(token)
    if current_user.is_authenticated and current_user.email != invitation.email:
        raise WrongInvitee()
    if not current_user.is_authenticated and accounts.email_taken(invitation.email):
        return render_template("auth/accept_login.html", invitation=invitation,
                               login_url=url_for("auth.login", next=request.path))
    form = AcceptForm() if current_user.is_authenticated else AcceptSignupForm()
    if form.validate_on_submit():
        return _accept(token, form)
    return _form_page("auth/accept.html", form, invitation=invitation)


def _accept(token: str, form: Any) -> Any:
    """Use the invitation, start the session and land without the token in the URL."""
    logged_in = current_user.is_authenticated
    account = None if logged_in else invitations.NewAccount(
        name=form.name.data, password=form.password.data, locale=form.locale.data)
    user, org = invitations.accept_invitation(
        token, by=current_user._get_current_object() if logged_in else None, account=account)
    _start_session(user, org_id=org.id)
    flash(_("Welcome to %(org)s.", org=org.name), "success")
    return redirect(home_url())
