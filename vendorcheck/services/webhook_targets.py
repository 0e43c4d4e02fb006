"""Where a webhook may go (SSRF rules) and the one HTTP request that carries it.

A target URL must be http(s), without credentials, to a host whose every address is public:
private, loopback, link-local, multicast, reserved, shared and unspecified addresses (IPv4 and
IPv6, IPv4-mapped included) are refused unless WEBHOOKS_ALLOW_PRIVATE_TARGETS is on. The host is
resolved again at each delivery and the connection goes to the address that was checked (a DNS
answer that changed meanwhile cannot steer it inside); redirects are never followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from vendorcheck.services.errors import ValidationFailed

MAX_URL = 2000
TIMEOUT = 5.0  # seconds, to connect and for each read
EXCERPT = 500  # characters of a response body kept in the delivery log

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValidationFailed):
    default = _l("This address cannot receive webhooks.")


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (a checked address) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Response:
    """What a receiver answered: its status and the start of its body."""

    status: int
    excerpt: str


def forbidden_address(ip: IPAddress) -> bool:
    """Tell whether an address is not on the public internet (IPv4-mapped IPv6 read as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def private_targets_allowed() -> bool:
    """Tell whether WEBHOOKS_ALLOW_PRIVATE_TARGETS lets webhooks reach private addresses."""
    return bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE_TARGETS"))


def parse_url(url: str) -> tuple[str, str, int, str]:
    """Return (scheme, host, port, path with query) of a webhook URL, or raise TargetRefused."""
    text = (url or "").strip()
    if not text or len(text) > MAX_URL:
        raise TargetRefused(_l("Give the endpoint's URL (at most %(n)d characters).", n=MAX_URL))
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise TargetRefused(_l("This URL is not valid.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused(_l("Only http:// and https:// URLs can receive webhooks."))
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(_l("Put no user name or password in the URL; verify the signature "
                               "instead."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused(_l("This URL has no host name."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve(host: str, port: int) -> list[str]:
    """Return every address a host name resolves to (an address stays itself)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass  # a name: ask the resolver
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise TargetRefused(_l("The host name %(host)s cannot be resolved.", host=host)) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_target(url: str) -> Target:
    """Check a URL and resolve its host now; refuse it if any address is not public."""
    scheme, host, port, path = parse_url(url)
    addresses = resolve(host, port)
    if not addresses:
        raise TargetRefused(_l("The host name %(host)s cannot be resolved.", host=host))
    if not private_targets_allowed():
        for address in addresses:
            if forbidden_address(ipaddress.ip_address(address.split("%")[0])):
                raise TargetRefused(_l(
                    "%(host)s leads to a private, local or reserved address (%(address)s): "
                    "webhooks only go to public addresses.", host=host, address=address))
    return Target(scheme, host, port, path, addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a checked address, sending the URL's host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address; the certificate must name the URL's host."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout,
                         context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(target: Target, body: bytes, headers: dict[str, str], *,
         timeout: float = TIMEOUT) -> Response:
    """POST a body to a checked target; no redirect is followed (a 3xx is an answer like any)."""
    conn: Any = (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, timeout)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        answer = conn.getresponse()
        excerpt = answer.read(EXCERPT * 4).decode("utf-8", errors="replace")[:EXCERPT]
        return Response(answer.status, excerpt)
    finally:
        conn.close()
