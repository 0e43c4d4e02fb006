"""Outgoing webhook endpoints of the token's organisation, their delivery log and replays (admin scope)."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from vendorcheck.access import active_org, get_owned_or_404
from vendorcheck.api import paging
from vendorcheck.api.auth import ADMIN, allows, current_user_of_token
from vendorcheck.api.common import IDEMPOTENCY_DOC, api_blueprint, idempotent, idempotent_forgetting
from vendorcheck.api.schemas import Strict
from vendorcheck.extensions import db
from vendorcheck.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from vendorcheck.security import MAX_ID
from vendorcheck.services import webhooks as svc
from vendorcheck.services.webhooks import EVENTS, MAX_DESCRIPTION

blp = api_blueprint("webhooks", "/webhooks",
                    "Webhook endpoints of the organisation: events, state, delivery log, replays.")

PERM = "webhooks.manage"
EVENT_NAMES = list(EVENTS)


class EndpointSchema(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    description = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    enabled = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class EndpointPage(paging.PageSchema):
    items = fields.List(fields.Nested(EndpointSchema), required=True)


class CreatedEndpointSchema(EndpointSchema):
    secret = fields.String(allow_none=True, required=True, metadata={
        "description": "The `whsec_…` signing secret, shown in this answer only (null when an "
                       "Idempotency-Key replays it: reveal it on the web page)."})


class EndpointInput(Strict):
    url = fields.String(required=True, validate=validate.Length(1, 2000),
                        metadata={"description": "https URL; private and loopback addresses are refused."})
    description = fields.String(load_default="", validate=validate.Length(max=MAX_DESCRIPTION))
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_NAMES)), required=True,
                         validate=validate.Length(1, len(EVENT_NAMES)))


class EndpointChanges(EndpointInput):
    """The fields of an endpoint to change (used partial: the others stay)."""

    enabled = fields.Boolean(metadata={"description": "false: the endpoint receives nothing."})


class EndpointQuery(paging.PageArgs, Strict):
    """Endpoints take the common page arguments."""


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    endpoint_id = fields.Integer(required=True)
    event_type = fields.String(required=True)
    event_id = fields.String(required=True, metadata={"description": "The `webhook-id` header."})
    payload = fields.Dict(required=True)
    status = fields.Enum(DeliveryStatus, by_value=True, required=True)
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    response_excerpt = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    replay_of_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(allow_none=True)


class DeliveryPage(paging.PageSchema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)


class DeliveryQuery(paging.PageArgs, Strict):
    status = fields.Enum(DeliveryStatus, by_value=True)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    return get_owned_or_404(WebhookEndpoint, endpoint_id)


def _delivery(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    delivery = db.session.get(WebhookDelivery, delivery_id) if delivery_id <= MAX_ID else None
    if delivery is None or delivery.endpoint_id != endpoint.id:
        abort(404)
    return delivery


@blp.route("")
class EndpointsView(MethodView):
    @allows(PERM, ADMIN)
    @blp.arguments(EndpointQuery, location="query", unknown="raise")
    @blp.response(200, EndpointPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the organisation's webhook endpoints."""
        query = select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == active_org().id)
        return paging.page_body(query, WebhookEndpoint, args)

    @allows(PERM, ADMIN)
    @idempotent_forgetting("secret")
    @blp.arguments(EndpointInput)
    @blp.response(201, CreatedEndpointSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, values: dict[str, Any]) -> dict[str, Any]:
        """Register an endpoint; the answer shows its signing secret, once."""
        endpoint, secret = svc.create_endpoint(active_org(), url=values["url"],
                                               description=values["description"],
                                               events=values["events"], by=current_user_of_token())
        return {**{name: getattr(endpoint, name) for name in EndpointSchema().fields}, "secret": secret}


@blp.route("/<int:endpoint_id>")
class EndpointView(MethodView):
    @allows(PERM, ADMIN)
    @blp.etag
    @blp.response(200, EndpointSchema)
    def get(self, endpoint_id: int) -> WebhookEndpoint:
        """Read an endpoint."""
        return _endpoint(endpoint_id)

    @allows(PERM, ADMIN)
    @blp.etag
    @blp.arguments(EndpointChanges(partial=True))
    @blp.response(200, EndpointSchema)
    def patch(self, values: dict[str, Any], endpoint_id: int) -> WebhookEndpoint:
        """Change an endpoint's URL, description, events or state (send If-Match with the ETag you read)."""
        endpoint = _endpoint(endpoint_id)
        blp.check_etag(endpoint, EndpointSchema)
        if values.keys() == {"enabled"}:  # as the web's switch: no URL check, so a refused URL can be stopped
            return svc.set_enabled(endpoint, values["enabled"], by=current_user_of_token())
        return svc.update_endpoint(endpoint, url=values.get("url", endpoint.url),
                                   description=values.get("description", endpoint.description),
                                   events=values.get("events", endpoint.events),
                                   enabled=values.get("enabled", endpoint.enabled),
                                   by=current_user_of_token())

    @allows(PERM, ADMIN)
    @blp.response(204)
    def delete(self, endpoint_id: int) -> None:
        """Delete an endpoint and its delivery log."""
        svc.delete_endpoint(_endpoint(endpoint_id), by=current_user_of_token())


@blp.route("/<int:endpoint_id>/deliveries")
class DeliveriesView(MethodView):
    @allows(PERM, ADMIN)
    @blp.arguments(DeliveryQuery, location="query", unknown="raise")
    @blp.response(200, DeliveryPage)
    def get(self, args: dict[str, Any], endpoint_id: int) -> dict[str, Any]:
        """List an endpoint's deliveries (filter by `status`; `sort=-id` for the newest first)."""
        query = svc.deliveries_query(_endpoint(endpoint_id), args.get("status")).order_by(None)
        return paging.page_body(query, WebhookDelivery, args)


@blp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
class ReplayView(MethodView):
    @allows(PERM, ADMIN)
    @idempotent
    @blp.response(201, DeliverySchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
        """Send a delivery's event again, as a new delivery (a new `webhook-id`)."""
        delivery = _delivery(_endpoint(endpoint_id), delivery_id)
        return svc.replay(delivery, by=current_user_of_token())
