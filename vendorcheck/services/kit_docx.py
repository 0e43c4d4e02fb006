"""Editable DOCX exports of the compliance kit: the DPA (either kind), the charter and the
description of the security measures (the register's is in kit_register). The words come from the
same contexts as the pages and PDFs; the signed PDF stays the reference."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from vendorcheck import audit
from vendorcheck.agreement import docx
from vendorcheck.agreement.assemble import document_context
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, utcnow
from vendorcheck.services import dpa as dpa_svc
from vendorcheck.services import kit_charter, kit_register, kit_security


def _audit(org: Organisation, what: str, locale: str, by: User) -> None:
    """Record a DOCX export."""
    audit.record("kit.docx_exported", by=by, org=org, details={"document": what,
                                                                "locale": locale})
    db.session.commit()


def dpa(org: Organisation, kind: str, locale: str, *, by: User) -> bytes:
    """Return the DPA of one kind the current answers make, as DOCX (raises KindInvalid)."""
    profile = dpa_svc.profile_of(org)
    draft = dpa_svc.draft_of(profile) if profile is not None else None
    if profile is None or draft is None:
        raise kit_register.NoAnswers()
    content = dpa_svc.draft_content(profile, kind)  # refuses an unknown kind
    q = dpa_svc.draft_questionnaire(draft)
    doc = document_context(content, locale=locale, q=q)
    with force_locale(doc["locale"]):
        heading = _("%(name)s · working copy of %(date)s (the signed PDF is the reference)",
                    name=(content.get("parties") or {}).get("processor_name") or org.name,
                    date=utcnow().strftime("%Y-%m-%d"))
    data = docx.dpa_docx(doc, heading=heading)
    _audit(org, f"dpa:{kind}", locale, by)
    return data


def charter(org: Organisation, locale: str, *, by: User) -> bytes:
    """Return the charter as it stands now (preview facts) as DOCX, its gaps listed first."""
    context = kit_charter.context_of(kit_charter.draft_facts(org), locale)
    with force_locale(context["locale"]):
        closing = []
        if context["dpa"]:
            closing.append(_("Our data processing agreement: version %(number)s, /dpa/%(slug)s/v"
                             "%(number)s", number=context["dpa"]["number"],
                             slug=context["dpa"]["slug"]))
        data = docx.sections_docx(
            context["sections"], title=f"{_('GDPR charter')} — {context['processor'] or org.name}",
            subtitle=utcnow().strftime("%Y-%m-%d"), locale=context["locale"],
            missing=[str(text) for text in context["missing"]],
            missing_title=_("To be completed"), closing=closing)
    _audit(org, "charter", locale, by)
    return data


def security(org: Organisation, locale: str, *, by: User) -> bytes:
    """Return the description of the security measures as DOCX."""
    doc = kit_security.document(org, locale)
    with force_locale(doc["locale"]):
        data = docx.security_docx(
            doc, title=_("Technical and organisational security measures"),
            subtitle=f"{doc['processor'] or org.name} · {utcnow().strftime('%Y-%m-%d')}",
            todo=_("To be completed:"), evidence=_("Evidence:"))
    _audit(org, "security", locale, by)
    return data


__all__ = ["charter", "dpa", "security"]
