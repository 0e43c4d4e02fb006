"""Webhook signatures (the Standard Webhooks test vector), the address rules and the retry schedule."""

from __future__ import annotations

import base64
import ipaddress
from datetime import timedelta

import pytest

from vendorcheck.services.webhook_delivery import (
    BACKOFF,
    MAX_ATTEMPTS,
    SECRET_PREFIX,
    new_secret,
    retry_delay,
    sign,
)
from vendorcheck.services.webhook_targets import TargetRefused, forbidden_address, parse_url


def test_signature_matches_the_published_test_vector():
    # From the Standard Webhooks reference libraries (standardwebhooks.com).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_changes_with_every_signed_part():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    base = sign(secret, "msg_1", 1614265330, b"{}")
    assert sign(secret, "msg_2", 1614265330, b"{}") != base
    assert sign(secret, "msg_1", 1614265331, b"{}") != base
    assert sign(secret, "msg_1", 1614265330, b"{ }") != base
    assert sign(new_secret(), "msg_1", 1614265330, b"{}") != base


def test_new_secrets_are_prefixed_base64_of_32_bytes():
    secret = new_secret()
    assert secret.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(secret.removeprefix(SECRET_PREFIX))) == 32
    assert new_secret() != secret


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "192.0.2.1", "198.51.100.7", "203.0.113.10",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2001:db8::1",
])
def test_non_public_addresses_are_forbidden(address):
    assert forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "8.8.8.8",
                                     "2606:4700:4700::1111", "::ffff:93.184.215.14"])
def test_public_addresses_are_allowed(address):
    assert not forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", ["", "ftp://host/x", "file:///etc/passwd", "gopher://h/",
                                 "javascript:alert(1)", "https://u:p@host/x", "http:///nohost",
                                 "http://[::1/x", "https://host:99999/x", "x" * 2001])
def test_unusable_urls_are_refused(url):
    with pytest.raises(TargetRefused):
        parse_url(url)


def test_urls_are_split_for_the_request():
    assert parse_url("https://Hooks.Example./in?a=1") == ("https", "hooks.example", 443, "/in?a=1")
    assert parse_url("http://h:8080") == ("http", "h", 8080, "/")


def test_retry_schedule_is_exponential_with_bounded_jitter_then_stops():
    assert MAX_ATTEMPTS == 6
    assert [b.total_seconds() for b in BACKOFF] == [30, 120, 600, 3600, 21600]
    for attempts, base in enumerate(BACKOFF, start=1):
        wait = retry_delay("msg_x", attempts)
        assert wait is not None and base <= wait <= base * 1.1
        assert retry_delay("msg_x", attempts) == wait  # deterministic for one delivery
    assert retry_delay("msg_x", MAX_ATTEMPTS) is None
    spread = {retry_delay(f"msg_{n}", 1) for n in range(20)}
    assert len(spread) > 1 and all(timedelta(seconds=30) <= w for w in spread if w)
