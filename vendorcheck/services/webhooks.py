"""Outgoing webhooks: an organisation's endpoints, the events other services emit, replays.

Services call `emit(org_id, event_type, data)` inside their transaction; it adds one delivery
per enabled endpoint of that organisation subscribed to the event and returns them. The caller
commits once, then calls `dispatch(deliveries)` (RQ, or an attempt at once without Redis), as
with `mail.queue` and `mail.dispatch`. Sending, signing and retries: services/webhook_delivery.py;
where a webhook may go: services/webhook_targets.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from vendorcheck import audit
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, User, utcnow
from vendorcheck.models.assessments import Assessment, FindingRecord
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.models.dpa_changes import DpaChangeProposal
from vendorcheck.models.remediation import RemediationRequest
from vendorcheck.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from vendorcheck.services import webhook_events as events
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.webhook_delivery import (
    decrypt_secret,
    dispatch,
    encrypt_secret,
    new_secret,
)
from vendorcheck.services.webhook_events import EVENTS, TEST_EVENT, envelope, test_data
from vendorcheck.services.webhook_targets import check_target

MAX_DESCRIPTION = 300
MAX_ENDPOINTS = 20  # per organisation

__all__ = ["EVENTS", "dispatch", "emit"]


class SecretUnreadable(DomainError):
    status = 409
    default = _l("This endpoint's secret can no longer be decrypted (the server's secret key "
                 "changed). Rotate the secret to get a new one.")


@dataclass(frozen=True)
class EndpointRow:
    """An endpoint as listed: its last delivery, if any."""

    endpoint: WebhookEndpoint
    last: WebhookDelivery | None


# ------------------------------------------------------------------------------------ events

def emit(org_id: int | None, event_type: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Add a delivery of an event for each subscribed, enabled endpoint of an organisation.

    No commit: the caller commits once, then passes the result to `dispatch`.
    """
    if org_id is None:
        return []
    if event_type not in EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoints = db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.organisation_id == org_id, WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id))
    payload = envelope(event_type, data)
    deliveries = [_new_delivery(e, event_type, payload) for e in endpoints
                  if event_type in (e.events or [])]
    if deliveries:
        db.session.flush()
    return deliveries


def emit_to(org_ids: Iterable[int | None], event_type: str,
            data: dict[str, Any]) -> list[WebhookDelivery]:
    """Emit one event to several organisations (each once)."""
    return [d for org_id in dict.fromkeys(org_ids) for d in emit(org_id, event_type, data)]


def assessment_event(assessment: Assessment, event_type: str) -> list[WebhookDelivery]:
    """Emit an assessment event (sent, submitted, decided) to the buyer's endpoints."""
    return emit(assessment.buyer_org_id, event_type, events.assessment_data(assessment))


def finding_event(assessment: Assessment, record: FindingRecord) -> list[WebhookDelivery]:
    """Emit `finding.changed` to the buyer's endpoints."""
    return emit(assessment.buyer_org_id, "finding.changed", events.finding_data(assessment, record))


def remediation_event(request: RemediationRequest) -> list[WebhookDelivery]:
    """Emit `remediation.updated` to the buyer's endpoints (after every step of a request)."""
    return emit(request.assessment.buyer_org_id, "remediation.updated",
                events.remediation_data(request))


def _dpa_audience(vendor_org_id: int, profile_id: int) -> list[int]:
    """Return who hears of a DPA: the publishing vendor, then every buyer that accepted it."""
    from vendorcheck.services.dpa_proposals import buyers_of_profile  # the DPA services load late

    return [vendor_org_id, *buyers_of_profile(profile_id)]


def dpa_published_event(version: DpaVersion) -> list[WebhookDelivery]:
    """Emit `dpa.published` to the vendor's endpoints and those of buyers that accepted the DPA."""
    return emit_to(_dpa_audience(version.vendor_org_id, version.profile_id), "dpa.published",
                   events.dpa_version_data(version))


def subprocessor_event(proposal: DpaChangeProposal, change: str,
                       names: dict[str, list[str]] | None = None) -> list[WebhookDelivery]:
    """Emit `subprocessor.changed` (proposed, withdrawn, applied) to the DPA's audience."""
    return emit_to(_dpa_audience(proposal.vendor_org_id, proposal.profile_id),
                   "subprocessor.changed", events.subprocessor_change_data(proposal, change, names))


def _new_delivery(endpoint: WebhookEndpoint, event_type: str, payload: dict[str, Any],
                  replay_of: WebhookDelivery | None = None) -> WebhookDelivery:
    delivery = WebhookDelivery(endpoint=endpoint, event_type=event_type,
                               event_id=f"msg_{secrets.token_urlsafe(18)}", payload=payload,
                               status=DeliveryStatus.PENDING, next_attempt_at=utcnow(),
                               replay_of_id=replay_of.id if replay_of else None)
    db.session.add(delivery)
    return delivery


# ------------------------------------------------------------------------------- endpoints

def _clean(url: str, description: str, events: Sequence[str]) -> tuple[str, str, list[str]]:
    """Check an endpoint's fields (the URL's host is resolved now); raise ValidationFailed."""
    url = (url or "").strip()
    check_target(url)
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(_l("The description is too long (at most %(n)d characters).",
                                  n=MAX_DESCRIPTION))
    chosen = [e for e in EVENTS if e in set(events or ())]
    if not chosen or len(chosen) != len(set(events)):
        raise ValidationFailed(_l("Choose at least one event from the list."))
    return url, description, chosen


def create_endpoint(org: Organisation, *, url: str, description: str, events: Sequence[str],
                    by: User) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; return it with its signing secret (shown once)."""
    url, description, chosen = _clean(url, description, events)
    count = db.session.scalar(select(func.count(WebhookEndpoint.id))
                              .where(WebhookEndpoint.organisation_id == org.id)) or 0
    if count >= MAX_ENDPOINTS:
        raise ValidationFailed(_l("An organisation can have at most %(n)d endpoints.",
                                  n=MAX_ENDPOINTS))
    secret = new_secret()
    endpoint = WebhookEndpoint(organisation_id=org.id, url=url, description=description,
                               events=chosen, secret_encrypted=encrypt_secret(secret),
                               enabled=True, created_by_id=by.id)
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook.endpoint_created", by=by, org=org.id, obj=endpoint,
                 details={"url": url, "events": chosen})
    db.session.commit()
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, *, url: str, description: str,
                    events: Sequence[str], enabled: bool, by: User) -> WebhookEndpoint:
    """Change an endpoint's URL, description, events or state."""
    url, description, chosen = _clean(url, description, events)
    before = {"url": endpoint.url, "events": endpoint.events, "enabled": endpoint.enabled}
    endpoint.url, endpoint.description, endpoint.events = url, description, chosen
    endpoint.enabled, endpoint.updated_at = enabled, utcnow()
    after = {"url": url, "events": chosen, "enabled": enabled}
    audit.record("webhook.endpoint_updated", by=by, org=endpoint.organisation_id, obj=endpoint,
                 details={k: v for k, v in after.items() if before[k] != v})
    db.session.commit()
    return endpoint


def set_enabled(endpoint: WebhookEndpoint, enabled: bool, *, by: User) -> WebhookEndpoint:
    """Enable or disable an endpoint (a disabled one receives nothing)."""
    endpoint.enabled, endpoint.updated_at = enabled, utcnow()
    audit.record("webhook.endpoint_enabled" if enabled else "webhook.endpoint_disabled", by=by,
                 org=endpoint.organisation_id, obj=endpoint)
    db.session.commit()
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint, *, by: User) -> None:
    """Delete an endpoint and its delivery log."""
    audit.record("webhook.endpoint_deleted", by=by, org=endpoint.organisation_id, obj=endpoint,
                 details={"url": endpoint.url})
    db.session.delete(endpoint)
    db.session.commit()


def rotate_secret(endpoint: WebhookEndpoint, *, by: User) -> str:
    """Give an endpoint a new signing secret at once; return it (shown once)."""
    secret = new_secret()
    endpoint.secret_encrypted, endpoint.updated_at = encrypt_secret(secret), utcnow()
    audit.record("webhook.secret_rotated", by=by, org=endpoint.organisation_id, obj=endpoint)
    db.session.commit()
    return secret


def reveal_secret(endpoint: WebhookEndpoint, *, by: User) -> str:
    """Return an endpoint's secret to an administrator who asked for it (audited)."""
    try:
        secret = decrypt_secret(endpoint)
    except InvalidToken:
        raise SecretUnreadable() from None
    audit.record("webhook.secret_revealed", by=by, org=endpoint.organisation_id, obj=endpoint)
    db.session.commit()
    return secret


# ------------------------------------------------------------------------ tests and replays

def send_test(endpoint: WebhookEndpoint, *, by: User) -> WebhookDelivery:
    """Send a `webhook.test` event to one endpoint (even if it did not subscribe to any event)."""
    delivery = _new_delivery(endpoint, TEST_EVENT, envelope(TEST_EVENT, test_data(endpoint.id)))
    db.session.flush()
    audit.record("webhook.test_sent", by=by, org=endpoint.organisation_id, obj=delivery,
                 details={"endpoint_id": endpoint.id})
    db.session.commit()
    dispatch([delivery])
    return delivery


def replay(delivery: WebhookDelivery, *, by: User) -> WebhookDelivery:
    """Send a delivery's payload again as a new delivery (a new webhook-id)."""
    copy = _new_delivery(delivery.endpoint, delivery.event_type, delivery.payload,
                         replay_of=delivery)
    db.session.flush()
    audit.record("webhook.delivery_replayed", by=by, org=delivery.endpoint.organisation_id,
                 obj=copy, details={"replay_of": delivery.id, "event_type": delivery.event_type})
    db.session.commit()
    dispatch([copy])
    return copy


# ---------------------------------------------------------------------------------- reading

def endpoints_of(org_id: int) -> list[EndpointRow]:
    """Return an organisation's endpoints with their last delivery, oldest endpoint first."""
    endpoints = list(db.session.scalars(select(WebhookEndpoint)
                                        .where(WebhookEndpoint.organisation_id == org_id)
                                        .order_by(WebhookEndpoint.id)))
    if not endpoints:
        return []
    latest = (select(func.max(WebhookDelivery.id))
              .where(WebhookDelivery.endpoint_id.in_([e.id for e in endpoints]))
              .group_by(WebhookDelivery.endpoint_id))
    last = {d.endpoint_id: d for d in db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.id.in_(latest)))}
    return [EndpointRow(e, last.get(e.id)) for e in endpoints]


def deliveries_query(endpoint: WebhookEndpoint,
                     status: DeliveryStatus | None = None) -> Select[tuple[WebhookDelivery]]:
    """Return the query of an endpoint's deliveries, newest first, optionally of one status."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return query.order_by(WebhookDelivery.id.desc())
