"""E-mails about an assessment, queued in the caller's transaction; the caller dispatches them after commit.

`queue_mail` composes the assessment's own e-mails (sent, submitted, reminder, overdue) for one address;
`notify_recipients` the review's e-mails to every contact it was sent to (clarification asked, assessment
reopened or cancelled, decision, remediation requested or reviewed).
"""

from __future__ import annotations

from email.utils import make_msgid
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from vendorcheck import mail
from vendorcheck.extensions import db
from vendorcheck.models import OutboxMessage, User
from vendorcheck.models.assessments import Assessment

SUBJECTS = {
    "assessment_sent": lambda c: _("%(buyer)s asks you to complete a questionnaire",
                                   buyer=c["buyer"]),
    "assessment_submitted": lambda c: _("%(vendor)s submitted its answers", vendor=c["vendor"]),
    "assessment_reminder": lambda c: _("Reminder: questionnaire for %(buyer)s", buyer=c["buyer"]),
    "assessment_overdue": lambda c: _("Overdue: questionnaire for %(buyer)s", buyer=c["buyer"]),
    "assessment_reminder_manual": lambda c: _("%(buyer)s reminds you of its questionnaire",
                                              buyer=c["buyer"]),
    "evidence_expiring": lambda c: _("A document for %(buyer)s expires in %(days)d days",
                                     buyer=c["buyer"], days=c["days"]),
    "answer_link_code": lambda c: _("Your code to answer the questionnaire of %(buyer)s",
                                    buyer=c["buyer"]),
    "remediation_responded": lambda c: _("%(vendor)s answered a remediation request",
                                         vendor=c["vendor"]),
    "remediation_reminder": lambda c: (
        _("Overdue: a finding to fix for %(buyer)s", buyer=c["buyer"]) if c["overdue"]
        else _("Reminder: a finding to fix for %(buyer)s", buyer=c["buyer"])),
    "remediation_waiver_expired": lambda c: _("A risk acceptance expired: the finding is open "
                                              "again"),
}


def queue_mail(template: str, *, to: str, locale: str | None, context: dict[str, Any],
               org_id: int | None, ref: tuple[str, int] | None, kind: str | None = None
               ) -> OutboxMessage:
    """Queue one of the assessment e-mails (the mail module renders only its own templates)."""
    lang = locale if locale in current_app.config["LANGUAGES"] else "en"
    with force_locale(lang):
        subject = str(SUBJECTS[template](context))
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", subject=subject, **context)
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "vendorcheck.local"
    message = OutboxMessage(
        message_id=make_msgid(domain=domain), template=kind or template, organisation_id=org_id,
        ref_type=ref[0] if ref else None, ref_id=ref[1] if ref else None, to_email=to,
        locale=lang, subject=subject, body_text=text, body_html=html)
    db.session.add(message)
    return message


def _recipients(assessment: Assessment) -> list[tuple[str, str, str | None]]:
    """Return (name, e-mail, locale) of each contact the assessment was sent to."""
    contacts = [r.contact for r in assessment.recipients]
    emails = [c.email for c in contacts]
    locales = dict(db.session.execute(select(User.email, User.locale).where(
        User.email.in_(emails))).all()) if emails else {}
    return [(c.name, c.email, locales.get(c.email)) for c in contacts]


def _vendor_link(assessment: Assessment) -> str:
    """Return the vendor's page for this assessment."""
    return mail.external_url("supplier.assessment", assessment_id=assessment.id)


def _subjects() -> dict[str, Any]:
    """Return the subject of each review e-mail, in the active locale."""
    return {
        "review_clarification": lambda c: _("%(buyer)s has a question about your answers",
                                            buyer=c["buyer"]),
        "review_decision": lambda c: _("%(buyer)s has reviewed your answers", buyer=c["buyer"]),
        "review_reopened": lambda c: _("%(buyer)s reopened the questionnaire for changes",
                                       buyer=c["buyer"]),
        "assessment_cancelled": lambda c: _("%(buyer)s cancelled its questionnaire",
                                            buyer=c["buyer"]),
        "remediation_requested": lambda c: _("%(buyer)s asks you to fix a finding",
                                             buyer=c["buyer"]),
        "remediation_reviewed": lambda c: _("%(buyer)s reviewed your remediation",
                                            buyer=c["buyer"]),
    }


def _queue(template: str, *, to: str, locale: str | None, context: dict[str, Any],
           assessment: Assessment) -> OutboxMessage:
    """Queue one review e-mail in the recipient's language (the mail module's subjects are its own)."""
    lang = locale if locale in current_app.config["LANGUAGES"] else "en"
    with force_locale(lang):
        subject = str(_subjects()[template](context))
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", subject=subject, **context)
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "vendorcheck.local"
    message = OutboxMessage(
        message_id=make_msgid(domain=domain), template=template,
        organisation_id=assessment.buyer_org_id, ref_type="assessment", ref_id=assessment.id,
        to_email=to, locale=lang, subject=subject, body_text=text, body_html=html)
    db.session.add(message)
    return message


def notify_recipients(assessment: Assessment, template: str, **context: Any) -> list[OutboxMessage]:
    """Queue one e-mail per recipient in their language; dispatch them after the commit."""
    base = {"buyer": assessment.buyer_org.name, "vendor": assessment.vendor.legal_name,
            "link": _vendor_link(assessment), **context}
    return [_queue(template, to=email, locale=locale, context={**base, "name": name},
                   assessment=assessment)
            for name, email, locale in _recipients(assessment)]
