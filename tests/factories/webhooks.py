"""Webhook endpoints and deliveries for tests, a local HTTP receiver, and the receiver's signature check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vendorcheck.extensions import db
from vendorcheck.models import Organisation
from vendorcheck.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from vendorcheck.services.webhook_delivery import encrypt_secret, new_secret

# TEST-NET-3 (RFC 5737): never routed, and refused as non-public before any connection.
UNREACHABLE = "https://203.0.113.10/hook"


def make_endpoint(org: Organisation | int, *, url: str = UNREACHABLE, events: list[str] | None = None,
                  enabled: bool = True, secret: str | None = None) -> tuple[WebhookEndpoint, str]:
    """Store an endpoint directly (no URL check); return it with its secret."""
    secret = secret or new_secret()
    endpoint = WebhookEndpoint(organisation_id=org if isinstance(org, int) else org.id, url=url,
                               description="", events=events or ["assessment.decided"],
                               secret_encrypted=encrypt_secret(secret), enabled=enabled)
    db.session.add(endpoint)
    db.session.commit()
    return endpoint, secret


def make_delivery(endpoint: WebhookEndpoint, *, status: DeliveryStatus = DeliveryStatus.SUCCEEDED,
                  event_type: str = "assessment.decided", **fields: Any) -> WebhookDelivery:
    """Store a delivery of an endpoint."""
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_type=event_type,
                               event_id=f"msg_test_{secrets.token_hex(8)}",
                               payload={"type": event_type, "timestamp": "2026-01-01T00:00:00Z",
                                        "data": {}}, status=status, attempts=1, **fields)
    db.session.add(delivery)
    db.session.commit()
    return delivery


def add_webhook_world(world: Any) -> None:
    """Give each tenant's buyer an endpoint (never reached) with one delivery."""
    for key, tenant in world.tenants.items():
        endpoint, _secret = make_endpoint(tenant.buyer.id)
        world.extra[f"webhook_{key}"] = endpoint.id
        world.extra[f"webhook_delivery_{key}"] = make_delivery(endpoint).id


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Verify a request as a receiver does, from the Standard Webhooks specification."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    given = [sig.split(",", 1)[1] for sig in headers["webhook-signature"].split(" ")
             if sig.startswith("v1,")]
    return any(hmac.compare_digest(expected, sig) for sig in given)


class Receiver:
    """What a local HTTP server received, and the statuses it answers next (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.url = ""

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.requests]


@contextmanager
def receiving(*statuses: int) -> Iterator[Receiver]:
    """Run a receiver on 127.0.0.1 (a free port) in a thread while the block runs."""
    rec = Receiver(list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            rec.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = rec.statuses.pop(0) if rec.statuses else 200
            answer = b"received" + b"!" * 2000
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_port}/hooks/vendorcheck?source=test"
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
