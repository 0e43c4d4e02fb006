"""The organisation's signing certificate (/org/certificate): upload, replace, remove."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorcheck.access import active_org, requires
from vendorcheck.extensions import db
from vendorcheck.forms import ConfirmForm
from vendorcheck.org.blueprint import bp
from vendorcheck.org.forms import CertificateForm
from vendorcheck.services import signing
from vendorcheck.services.errors import DomainError


@bp.route("/certificate", methods=["GET", "POST"])
@requires("certificate.manage")
def certificate() -> Any:
    """Show, upload or replace the organisation's signing certificate."""
    org = active_org()
    form = CertificateForm()
    status = 200
    if form.validate_on_submit():
        data = form.file.data.read(signing.MAX_P12_BYTES + 1)
        try:
            signing.upload_certificate(org, data, form.passphrase.data or "", by=current_user)
        except DomainError as exc:
            db.session.rollback()
            form.file.errors = [*form.file.errors, exc.message]
            status = exc.status
        else:
            flash(_("The signing certificate was saved. New reports are signed with it."), "success")
            return redirect(url_for("org.certificate"))
    elif request.method == "POST":
        status = 422
    return render_template("org/certificate.html", form=form,
                           record=signing.organisation_certificate(org.id)), status


@bp.route("/certificate/remove", methods=["GET", "POST"])
@requires("certificate.manage")
def remove_certificate() -> Any:
    """Remove the organisation's certificate, after confirmation."""
    org = active_org()
    form = ConfirmForm()
    record = signing.organisation_certificate(org.id)
    if record is None:
        return redirect(url_for("org.certificate"))
    if form.validate_on_submit():
        signing.remove_certificate(org, by=current_user)
        flash(_("The certificate was removed. Reports are now signed with the instance key."),
              "success")
        return redirect(url_for("org.certificate"))
    return render_template("org/remove_certificate.html", form=form, record=record)
