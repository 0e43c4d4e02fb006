"""The organisation's single sign-on settings (/org/sso): provider, domains, roles, "SSO required"."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck import mail
from vendorcheck.access import active_org, requires, roles_for
from vendorcheck.extensions import db
from vendorcheck.forms import options
from vendorcheck.models import Membership, Organisation, Role
from vendorcheck.models.sso import SsoConfig, SsoProtocol
from vendorcheck.org.blueprint import bp
from vendorcheck.org.forms import SsoForm
from vendorcheck.org.views import _role_choices
from vendorcheck.services import sso_config
from vendorcheck.services.errors import DomainError


def _admins(org: Organisation) -> list[Membership]:
    """Return the organisation's administrators (the break-glass choices)."""
    return [m for m in org.memberships if m.role == Role.ADMIN]


def _form(org: Organisation, cfg: SsoConfig | None) -> SsoForm:
    """Return the settings form, filled from the stored configuration on a GET."""
    form = SsoForm()
    form.protocol.choices = options([("oidc", "OpenID Connect"), ("saml", "SAML 2.0")])
    form.default_role.choices = _role_choices()
    form.break_glass.choices = options([(0, _("Nobody"))] + [
        (m.user_id, f"{m.user.name} <{m.user.email}>") for m in _admins(org)])
    if request.method == "GET" and cfg is not None:
        form.protocol.data, form.enabled.data = cfg.protocol.value, cfg.enabled
        form.allowed_domains.data = "\n".join(cfg.allowed_domains)
        form.issuer.data, form.client_id.data = cfg.issuer, cfg.client_id
        form.idp_metadata_url.data, form.role_claim.data = cfg.idp_metadata_url, cfg.role_claim
        form.role_map.data = "\n".join(f"{value} = {role}" for value, role in cfg.role_map.items())
        form.default_role.data = cfg.default_role.value
        form.jit_provisioning.data, form.sso_required.data = cfg.jit_provisioning, cfg.sso_required
        form.break_glass.data = cfg.break_glass_user_id or 0
    elif request.method == "GET":
        form.enabled.data = True
        form.default_role.data = roles_for(org)[-1].value
    return form


def _settings(form: SsoForm, org: Organisation) -> sso_config.SsoSettings:
    """Turn the submitted form into settings (raises SsoSettingsInvalid on a bad list)."""
    upload = form.idp_metadata.data
    metadata = upload.read(sso_config.MAX_METADATA_BYTES + 1) if upload else b""
    return sso_config.SsoSettings(
        protocol=SsoProtocol(form.protocol.data), enabled=bool(form.enabled.data),
        allowed_domains=sso_config.parse_domains(form.allowed_domains.data or ""),
        role_claim=form.role_claim.data or "",
        role_map=sso_config.parse_role_map(form.role_map.data or "", org),
        default_role=Role(form.default_role.data), jit_provisioning=bool(form.jit_provisioning.data),
        sso_required=bool(form.sso_required.data), break_glass_user_id=form.break_glass.data or None,
        issuer=form.issuer.data or "", client_id=form.client_id.data or "",
        client_secret=form.client_secret.data or "",
        idp_metadata_xml=sso_config.metadata_text(metadata),
        idp_metadata_url=form.idp_metadata_url.data or "")


@bp.route("/sso", methods=["GET", "POST"])
@requires("sso.manage")
def sso() -> Any:
    """Show and change the organisation's single sign-on settings."""
    org = active_org()
    cfg = sso_config.config_of(org.id)
    form = _form(org, cfg)
    status = 200
    if form.validate_on_submit():
        try:
            sso_config.save(org, _settings(form, org), by=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            status = exc.status
        else:
            flash(_("The single sign-on settings were saved."), "success")
            return redirect(url_for("org.sso"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "org/sso.html", form=form, cfg=cfg, redirect_uri=mail.external_url("auth.oidc_callback"),
        sp_metadata=mail.external_url("auth.saml_metadata", slug=org.slug),
        acs_url=mail.external_url("auth.saml_acs", slug=org.slug)), status
