"""Account views: thin wrappers around vendorcheck.services.accounts and .invitations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from vendorcheck.access import deny, home_url
from vendorcheck.auth.forms import (
    AcceptForm,
    AcceptSignupForm,
    ChangePasswordForm,
    ConfirmForm,
    LoginForm,
    LogoutForm,
    ProfileForm,
    ResetForm,
    ResetRequestForm,
    SignupForm,
    SsoStartForm,
)
from vendorcheck.auth.login_steps import after_password, note_device
from vendorcheck.auth.login_steps import start_session as _start_session
from vendorcheck.extensions import limiter
from vendorcheck.services import accounts, invitations, sessions
from vendorcheck.services.errors import (
    InvalidCredentials,
    SessionNotFound,
    ValidationFailed,
    WrongInvitee,
)
from vendorcheck.sessions import current_session

bp = Blueprint("auth", __name__, url_prefix="/auth")

POST_LIMIT_PER_EMAIL = "5/minute;50/hour"


def post_limit_per_ip() -> str:
    """Return the per-address limit on the auth forms' POSTs (setting AUTH_POST_LIMIT_PER_IP)."""
    return str(current_app.config["AUTH_POST_LIMIT_PER_IP"])


def _email_key() -> str:
    """Rate-limit key for login and reset: the e-mail address tried."""
    return "email:" + (request.form.get("email") or "").strip().lower()[:254]


def _form_page(template: str, form: Any, **context: Any) -> tuple[str, int]:
    """Render a form page: 422 when a submitted form was refused, 200 otherwise."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT_PER_EMAIL, key_func=_email_key, methods=["POST"])
@limiter.limit(post_limit_per_ip, methods=["POST"])
def login() -> Any:
    """Log in with e-mail and password; go to `next` only if it is a local path."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.check_password(form.email.data, form.password.data)
        except InvalidCredentials as exc:
            form.form_errors.append(exc.message)
        else:
            return after_password(user, remember=bool(form.remember.data), target=request.args.get("next"))
    return _form_page("auth/login.html", form, sso_form=SsoStartForm(formdata=None))


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log out and clear the session."""
    if LogoutForm().validate_on_submit():
        sessions.logout(current_session(), by=current_user)
        _forget_login()
        flash(_("You are logged out."), "success")
    return redirect(url_for("public.index"))


def _forget_login() -> None:
    """Drop the login from this browser: the signed session and the remember cookie."""
    session.clear()
    logout_user()  # after clear(): it leaves the flag that makes Flask-Login delete the remember cookie


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(post_limit_per_ip, methods=["POST"])
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
            note_device(user, mail_if_new=False)
            flash(_("Welcome! Your organisation is ready; start by registering a vendor."),
                  "success")
            return redirect(home_url())
    return _form_page("auth/signup.html", form)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT_PER_EMAIL, key_func=_email_key, methods=["POST"])
@limiter.limit(post_limit_per_ip, methods=["POST"])
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
@limiter.limit(post_limit_per_ip, methods=["POST"])
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
            this = current_session()
            accounts.change_password(form.current.data, form.password.data, by=current_user,
                                     keep_session=this.id if this else None)
        except ValidationFailed as exc:
            form.current.errors.append(exc.message)
        else:
            flash(_("Your password was changed. Other sessions were logged out."), "success")
            return redirect(url_for("auth.profile"))
    return _form_page("auth/change_password.html", form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    """Show and edit one's name, preferred language and time zone."""
    form = ProfileForm(data={"name": current_user.name, "locale": current_user.locale,
                             "timezone": current_user.timezone or ""})  # "" is "Automatic"
    if form.validate_on_submit():
        accounts.update_profile(form.name.data, form.locale.data, by=current_user,
                                timezone=form.timezone.data or None)
        session["lang"] = form.locale.data
        flash(_("Your profile was saved."), "success")
        return redirect(url_for("auth.profile"))
    return _form_page("auth/profile.html", form, sessions=sessions.active_sessions(current_user),
                      this_session=current_session())


@bp.route("/sessions/<int:session_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_session(session_id: int) -> Any:
    """Confirm, then end one of one's own sessions (another user's answers 404); ending this one logs out."""
    try:
        row = sessions.own_session(session_id, by=current_user)
    except SessionNotFound:
        deny(404, f"user_session:{session_id}")  # logged: someone tried another user's session
    this = current_session()
    form = ConfirmForm()
    if form.validate_on_submit():
        sessions.revoke(row.id, by=current_user)
        if this is not None and this.id == row.id:
            _forget_login()
            flash(_("You are logged out."), "success")
            return redirect(url_for("auth.login"))
        flash(_("The session was ended: that device is logged out."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/revoke_session.html", form=form, row=row,
                           is_this=this is not None and this.id == row.id)


@bp.route("/sessions/revoke-all", methods=["GET", "POST"])
@login_required
def logout_everywhere() -> Any:
    """Confirm, then end every session of the user, this one included."""
    form = ConfirmForm()
    if form.validate_on_submit():
        sessions.revoke_all(by=current_user)
        _forget_login()
        flash(_("You are logged out on every device."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/logout_everywhere.html", form=form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit(post_limit_per_ip, methods=["POST"])
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
    note_device(user, mail_if_new=False)
    flash(_("Welcome to %(org)s.", org=org.name), "success")
    return redirect(home_url())
