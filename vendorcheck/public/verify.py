"""The public /verify page: is this signed PDF intact, and ours?"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from vendorcheck.errors import abort_with
from vendorcheck.extensions import db, limiter
from vendorcheck.public.blueprint import bp
from vendorcheck.public.forms import VerifyForm
from vendorcheck.services import verification

VERIFY_MAX_BYTES = 10 * 1024 * 1024
VERIFY_LIMIT = "20/minute"


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(VERIFY_LIMIT, methods=["POST"])
def verify() -> Any:
    """Public page: upload a signed report and see whether it is intact and ours."""
    if request.method == "POST" and (request.content_length or 0) > VERIFY_MAX_BYTES + 64 * 1024:
        abort_with(413, _("The file is too large: a report is at most 10 MB."))
    form = VerifyForm()
    check = None
    status = 200
    if form.validate_on_submit():
        data = form.file.data.read(VERIFY_MAX_BYTES + 1)
        if len(data) > VERIFY_MAX_BYTES:
            abort_with(413, _("The file is too large: a report is at most 10 MB."))
        check = verification.check_report(data)
        db.session.rollback()
        status = 200 if check.ok else 422
    elif request.method == "POST":
        status = 422
    return render_template("public/verify.html", form=form, check=check), status
