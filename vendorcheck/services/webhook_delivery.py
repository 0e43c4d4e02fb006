"""Sending one webhook delivery: the Standard Webhooks signature, the attempt, the retry schedule.

Headers (https://www.standardwebhooks.com): `webhook-id` (the delivery's event id, the same on
every retry), `webhook-timestamp` (seconds since the epoch, new at each attempt) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
base64-decoded part of the endpoint's `whsec_` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import select

from vendorcheck.extensions import db
from vendorcheck.models import utcnow
from vendorcheck.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from vendorcheck.services.errors import DomainError
from vendorcheck.services.webhook_targets import TargetRefused, check_target, post

log = logging.getLogger(__name__)

QUEUE = "webhooks"  # the RQ queue `vendorcheck worker` listens to (jobs.queue_names)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
# Waits after the 1st, 2nd… failed attempt: 6 attempts in all over about 7 hours and 12 minutes.
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
           timedelta(hours=1), timedelta(hours=6))
MAX_ATTEMPTS = len(BACKOFF) + 1
JITTER = 0.1  # up to 10 % more, the same for a given delivery and attempt (spreads retries)
USER_AGENT = "vendorcheck-webhooks/1"


# --------------------------------------------------------------------------------- secrets

def new_secret() -> str:
    """Return a new signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _box() -> Any:
    """Return the Fernet of endpoint secrets (signing.py derives it from SECRET_KEY)."""
    from vendorcheck.services import signing  # the signing stack loads on first use

    return signing.secret_box(b"webhook endpoint secret")


def encrypt_secret(secret: str) -> bytes:
    """Encrypt a signing secret for storage (a key derived from SECRET_KEY)."""
    return bytes(_box().encrypt(secret.encode("ascii")))


def decrypt_secret(endpoint: WebhookEndpoint) -> str:
    """Return an endpoint's signing secret in clear."""
    return bytes(_box().decrypt(endpoint.secret_encrypted)).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` value of a message (Standard Webhooks, v1)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def body_of(delivery: WebhookDelivery) -> bytes:
    """Return the exact bytes sent (and signed) for a delivery."""
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False,
                      sort_keys=True).encode("utf-8")


def signed_headers(secret: str, msg_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """Return the headers of one attempt."""
    timestamp = int(now.timestamp())
    return {"content-type": "application/json", "user-agent": USER_AGENT,
            "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body)}


# ------------------------------------------------------------------------------- schedule

def retry_delay(event_id: str, attempts: int) -> timedelta | None:
    """Return the wait after `attempts` failed attempts, or None once they are used up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    base = BACKOFF[attempts - 1]
    spread = int.from_bytes(hashlib.sha256(f"{event_id}:{attempts}".encode()).digest()[:2], "big")
    return base * (1 + JITTER * spread / 0xFFFF)


# ------------------------------------------------------------------------------- delivery

def deliver(delivery_id: int, *, now: datetime | None = None) -> str:
    """Make one attempt of a due delivery; commit its new state; return the status."""
    moment = now or utcnow()
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING):
        db.session.rollback()
        return "skipped"
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > moment + timedelta(seconds=1):
        db.session.rollback()
        return "not-due"
    status, error, excerpt = _attempt(delivery, moment)
    _record(delivery, status, error, excerpt, moment)
    db.session.commit()
    if delivery.status is DeliveryStatus.RETRYING:
        schedule_retry(delivery)
    return delivery.status.value


def _attempt(delivery: WebhookDelivery, moment: datetime) -> tuple[int | None, str | None, str]:
    """Send a delivery once: (HTTP status or None, error or None, response excerpt)."""
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        return None, "The endpoint is disabled.", ""
    try:
        target = check_target(endpoint.url)  # again now: the name may resolve elsewhere today
    except TargetRefused as exc:
        return None, f"Refused: {exc.message}", ""
    body = body_of(delivery)
    try:
        secret = decrypt_secret(endpoint)
    except InvalidToken:
        return None, ("The signing secret cannot be decrypted (the server's SECRET_KEY changed): "
                      "rotate the secret."), ""
    headers = signed_headers(secret, delivery.event_id, body, moment)
    try:
        answer = post(target, body, headers)
    except (OSError, ValueError) as exc:  # refused, timed out, TLS, a malformed answer
        return None, f"{type(exc).__name__}: {exc}"[:500] or "connection failed", ""
    except Exception as exc:  # http.client's own errors (BadStatusLine…)
        return None, f"{type(exc).__name__}: {exc}"[:500], ""
    if 200 <= answer.status < 300:
        return answer.status, None, answer.excerpt
    if 300 <= answer.status < 400:
        return answer.status, "Redirects are not followed: give the final URL.", answer.excerpt
    return answer.status, f"HTTP {answer.status}", answer.excerpt


def _record(delivery: WebhookDelivery, status: int | None, error: str | None, excerpt: str,
            moment: datetime) -> None:
    """Update a delivery after one attempt: succeeded, retrying later, or failed for good."""
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = status, error
    delivery.response_excerpt = excerpt or None
    delivery.updated_at = moment
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            DeliveryStatus.SUCCEEDED, moment, None)
        return
    wait = None if not delivery.endpoint.enabled else retry_delay(delivery.event_id,
                                                                 delivery.attempts)
    if wait is None:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        log.warning("webhook delivery %s failed for good: %s", delivery.id, error)
        return
    delivery.status, delivery.next_attempt_at = DeliveryStatus.RETRYING, moment + wait
    log.info("webhook delivery %s will be retried at %s: %s", delivery.id,
             delivery.next_attempt_at, error)


# ------------------------------------------------------------------------------- the queue

def uses_queue() -> bool:
    """Tell whether deliveries go through RQ (Redis configured, or a queue given by a test)."""
    return bool(current_app.config.get("REDIS_URL")) or \
        "vendorcheck_webhook_queue" in current_app.extensions


def webhook_queue() -> Any:
    """Return the RQ queue of webhook deliveries (tests may put their own in app.extensions)."""
    injected = current_app.extensions.get("vendorcheck_webhook_queue")
    if injected is not None:
        return injected
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(current_app.config["REDIS_URL"]))


def _job_id(delivery: WebhookDelivery) -> str:
    return f"webhook-{delivery.id}-{delivery.attempts}"


def dispatch(deliveries: list[WebhookDelivery]) -> None:
    """After commit: enqueue each delivery on RQ, or, without Redis, attempt it now."""
    ids = [d.id for d in deliveries]
    if not ids:
        return
    if uses_queue():
        for delivery in deliveries:
            try:
                webhook_queue().enqueue("vendorcheck.jobs.deliver_webhook", delivery.id,
                                        job_id=_job_id(delivery))
            except Exception:  # Redis down: the row stays pending for `webhooks deliver-due`
                log.exception("could not enqueue webhook delivery %s", delivery.id)
        return
    for delivery_id in ids:
        try:
            deliver(delivery_id)
        except Exception:  # the caller's change is committed: never fail its page for a webhook
            db.session.rollback()
            log.exception("webhook delivery %s could not be attempted; `webhooks deliver-due` "
                          "will try again", delivery_id)


def schedule_retry(delivery: WebhookDelivery) -> None:
    """Enqueue the next attempt at its time (RQ's scheduler); without Redis `deliver-due` runs it."""
    if not uses_queue() or delivery.next_attempt_at is None:
        return
    try:
        webhook_queue().enqueue_at(delivery.next_attempt_at, "vendorcheck.jobs.deliver_webhook",
                                   delivery.id, job_id=_job_id(delivery))
    except Exception:
        log.exception("could not schedule webhook delivery %s", delivery.id)


def deliver_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Attempt every pending or retrying delivery whose time has come; count the outcomes."""
    moment = now or utcnow()
    ids = list(db.session.scalars(
        select(WebhookDelivery.id).where(
            WebhookDelivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RETRYING)),
            WebhookDelivery.next_attempt_at <= moment)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)))
    counts: dict[str, int] = {}
    for delivery_id in ids:
        try:
            outcome = deliver(delivery_id, now=moment)
        except DomainError as exc:  # e.g. a secret no configured key opens
            db.session.rollback()
            log.warning("webhook delivery %s not attempted: %s", delivery_id, exc.message)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
