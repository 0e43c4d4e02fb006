"""The public GDPR charter of a vendor, beside its DPA: /dpa/<slug>/charter and its signed PDF.

Reads only published, immutable `CharterVersion` rows; no login; rate limited like the DPA pages.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request

from vendorcheck.dpa.blueprint import bp
from vendorcheck.dpa.pages import PDF_LIMIT, PUBLIC_LIMIT, SLUG
from vendorcheck.extensions import limiter
from vendorcheck.i18n import current_locale
from vendorcheck.models.dpa import DpaProfile
from vendorcheck.models.kit import CharterVersion
from vendorcheck.services import kit_charter as svc
from vendorcheck.services import kit_charter_attach

LOCALES = ("en", "fr")


@bp.app_context_processor
def _kit_helpers() -> dict[str, Any]:
    """Let buyer pages link a vendor's published charter, its DPA and a charter attached."""
    return {"kit_published": svc.published_of, "charter_review_link": kit_charter_attach.link_of,
            "charter_public_slug": kit_charter_attach.public_slug}


def _published(slug: str) -> tuple[DpaProfile, CharterVersion]:
    """Return the profile and its latest published charter, or 404."""
    found = svc.published_by_slug(slug)
    if found is None:
        abort(404)
    return found


@bp.get(f"/{SLUG}/charter", endpoint="charter")
@limiter.limit(PUBLIC_LIMIT)
def charter(slug: str) -> str:
    """Show the latest published GDPR charter (`?lang=fr|en` switches the language)."""
    profile, version = _published(slug)
    context = svc.context_of(version.facts, current_locale())
    return render_template("dpa/charter.html", profile=profile, org=version.vendor_org,
                           version=version, charter=context, base_url="")


@bp.get(f"/{SLUG}/charter.pdf", endpoint="charter_pdf")
@limiter.limit(PDF_LIMIT)
def charter_pdf(slug: str) -> Response:
    """Download the latest published charter as a signed PDF (`?locale=fr|en`)."""
    profile, version = _published(slug)
    locale = request.args.get("locale")
    locale = locale if locale in LOCALES else current_locale()
    response = Response(svc.signed_pdf(version, locale), mimetype="application/pdf")
    filename = f"gdpr-charter-{profile.slug}-v{version.number}-{locale}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
