"""E-mail through an outbox: queue in the business transaction, deliver after commit.

Without VENDORCHECK_MAIL_SERVER the messages stay in the outbox and are printed to the log with
their links (the demo works offline). With it, they go out over SMTP, retried with backoff.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from vendorcheck.extensions import db
from vendorcheck.i18n import force_timezone
from vendorcheck.models import OutboxMessage, OutboxStatus, User, utcnow

log = logging.getLogger(__name__)

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
           timedelta(hours=2), timedelta(hours=12))
SMTP_TIMEOUT = 10
QUEUE = "mail"  # the RQ queue `vendorcheck worker` listens to (jobs.queue_names)
# Extra headers by template name, registered by the module that queues those e-mails
# (e.g. RFC 8058 List-Unsubscribe on DPA notices); computed when the message is built.
HEADER_HOOKS: dict[str, Callable[[OutboxMessage], dict[str, str]]] = {}


def _subjects() -> dict[str, Callable[[dict[str, Any]], str]]:
    """Return the subject line of each template, in the active locale."""
    return {
        "vendor_invitation": lambda c: (
            _("%(buyer)s asks you to complete a questionnaire", buyer=c["buyer"]) if c.get("title")
            else _("%(buyer)s invites you to vendorcheck", buyer=c["buyer"])),
        "colleague_invitation": lambda c: _("Join %(org)s on vendorcheck", org=c["org"]),
        "password_reset": lambda c: _("Reset your vendorcheck password"),
        "account_locked": lambda c: _("Logging in to your vendorcheck account is paused"),
        "new_device": lambda c: _("New sign-in to your vendorcheck account"),
        "mfa_reset": lambda c: _("Your vendorcheck second factors were reset"),
        "invitation_reminder": lambda c: _("Reminder: %(buyer)s is waiting for you",
                                           buyer=c["buyer"]),
    }


def external_url(endpoint: str, **values: Any) -> str:
    """Build an absolute link from BASE_URL, never from the request's Host header."""
    from flask import url_for

    path = url_for(endpoint, _external=False, **values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def queue(template: str, *, to: str, locale: str | None, context: dict[str, Any],
          org_id: int | None = None, ref: tuple[str, int] | None = None) -> OutboxMessage:
    """Render a message in the recipient's language and time zone (their profile's, else the
    instance's: never the sender's) and add it to the session (no commit)."""
    lang = locale if locale in current_app.config["LANGUAGES"] else "en"
    with force_locale(lang), force_timezone(recipient_timezone(to)):
        subject = _subjects()[template](context)
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", subject=subject, **context)
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "vendorcheck.local"
    message = OutboxMessage(
        message_id=make_msgid(domain=domain), template=template, organisation_id=org_id,
        ref_type=ref[0] if ref else None, ref_id=ref[1] if ref else None,
        to_email=to, locale=lang, subject=subject, body_text=text, body_html=html,
    )
    db.session.add(message)
    return message


def recipient_timezone(address: str) -> str | None:
    """Return the time zone chosen by the account with this address, if any."""
    with db.session.no_autoflush:
        return db.session.scalar(select(User.timezone).where(User.email == address.strip().lower()))


def dispatch(messages: Iterable[OutboxMessage]) -> None:
    """After commit: enqueue on RQ, send over SMTP now, or log the message (offline default)."""
    ids = [m.id for m in messages]
    if not ids:
        return
    if current_app.config.get("REDIS_URL") or "vendorcheck_mail_queue" in current_app.extensions:
        for message_id in ids:
            try:
                mail_queue().enqueue("vendorcheck.jobs.deliver_mail", message_id, job_id=f"mail-{message_id}")
            except Exception:  # Redis down: the row stays pending for `mail send-pending`
                log.exception("could not enqueue mail %s; it stays in the outbox", message_id)
        return
    for message_id in ids:
        deliver(message_id)


def mail_queue() -> Any:
    """Return the RQ queue for mail (tests may put their own in app.extensions)."""
    injected = current_app.extensions.get("vendorcheck_mail_queue")
    if injected is not None:
        return injected
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(current_app.config["REDIS_URL"]))


def smtp_configured() -> bool:
    """Tell whether an SMTP server is configured."""
    return bool(current_app.config.get("MAIL_SERVER"))


def deliver(message_id: int, *, now: datetime | None = None) -> str:
    """Try to deliver one pending message that is due; commit its new state; return the status."""
    message = db.session.get(OutboxMessage, message_id)
    moment = now or utcnow()
    if message is None or message.status is not OutboxStatus.PENDING:
        return "skipped"
    if not smtp_configured():
        log.info("mail kept in outbox (no SMTP configured) to=%s subject=%s\n%s",
                 message.to_email, message.subject, message.body_text)
        return "logged"
    if message.next_attempt_at > moment:
        return "not-due"
    error, permanent = _send(message)
    _record_attempt(message, error, permanent, moment)
    db.session.commit()
    return message.status.value


def _record_attempt(message: OutboxMessage, error: str | None, permanent: bool,
                    moment: datetime) -> None:
    """Update a message after one SMTP attempt."""
    message.attempts += 1
    if error is None:
        message.status, message.sent_at, message.last_error = OutboxStatus.SENT, moment, None
        return
    message.last_error = error[:2000]
    max_attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS", 5))
    if permanent or message.attempts >= max_attempts:
        message.status = OutboxStatus.FAILED
        log.warning("mail %s failed for good: %s", message.id, error)
        return
    message.next_attempt_at = moment + BACKOFF[min(message.attempts - 1, len(BACKOFF) - 1)]
    log.info("mail %s will be retried at %s: %s", message.id, message.next_attempt_at, error)


def _send(message: OutboxMessage) -> tuple[str | None, bool]:
    """Send over SMTP; return (error or None, whether the error is permanent)."""
    cfg = current_app.config
    try:
        with _connect(cfg) as smtp:
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
            smtp.send_message(_build(message, cfg))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        text = "; ".join(f"{c} {m.decode(errors='replace')}" for c, m in exc.recipients.values())
        return text, any(code >= 500 for code in codes)
    except smtplib.SMTPResponseException as exc:
        reason = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return f"{exc.smtp_code} {reason}", exc.smtp_code >= 500
    except (OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}", False
    return None, False


def _connect(cfg: Any) -> smtplib.SMTP:
    """Open an SMTP connection (implicit TLS or STARTTLS as configured)."""
    host, port = cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT") or 25)
    if cfg.get("MAIL_USE_SSL"):
        return smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT)
    smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    if cfg.get("MAIL_USE_TLS"):
        smtp.starttls()
    return smtp


def _build(message: OutboxMessage, cfg: Any) -> EmailMessage:
    """Build the MIME message with a stable Message-ID (the same on every retry)."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = cfg.get("MAIL_SENDER") or "vendorcheck <no-reply@vendorcheck.local>"
    email["To"] = message.to_email
    email["Message-ID"] = message.message_id
    hook = HEADER_HOOKS.get(message.template)
    extra = hook(message) if hook else {}
    for name, value in extra.items():
        email[name] = value
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    if extra:
        # A link header is one long word: fold it only past RFC 5322's 998 characters, never
        # as encoded words, which mail clients cannot read as List-Unsubscribe.
        email.policy = email.policy.clone(max_line_length=998)
    return email


def send_pending(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Deliver every due pending message; return counts by outcome."""
    moment = now or utcnow()
    due = select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= moment
    ).order_by(OutboxMessage.id).limit(limit)
    counts: dict[str, int] = {}
    for message_id in list(db.session.scalars(due)):
        outcome = deliver(message_id, now=moment)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
