"""The restricted URL fetcher serves static files and data: URIs, and nothing else."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.request import Request

import pytest

from vendorcheck.pdf import StaticOnlyFetcher


def test_static_file_is_served(static_dir: Path) -> None:
    fetcher = StaticOnlyFetcher(static_dir)
    response = fetcher.fetch(fetcher.base_url + "img/logo.png")
    assert response.read() == (static_dir / "img" / "logo.png").read_bytes()
    assert response.content_type == "image/png"


def test_data_uri_is_decoded(static_dir: Path) -> None:
    png = (static_dir / "img" / "logo.png").read_bytes()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    response = StaticOnlyFetcher(static_dir).fetch(url)
    assert response.read() == png
    assert response.content_type == "image/png"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://evil.example/etc/passwd",
        "FILE:///etc/passwd",
        "https://example.org/x.css",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "not a url",
    ],
)
def test_other_urls_are_refused(static_dir: Path, url: str) -> None:
    with pytest.raises(ValueError, match="blocked"):
        StaticOnlyFetcher(static_dir).fetch(url)


def test_dot_dot_traversal_is_refused(static_dir: Path) -> None:
    fetcher = StaticOnlyFetcher(static_dir)
    for url in (
        fetcher.base_url + "../secret.txt",
        fetcher.base_url + "img/%2e%2e/%2e%2e/secret.txt",
        fetcher.base_url + "../../../../../../etc/passwd",
    ):
        with pytest.raises(ValueError, match="outside static"):
            fetcher.fetch(url)


def test_symlink_out_of_static_is_refused(static_dir: Path) -> None:
    fetcher = StaticOnlyFetcher(static_dir)
    with pytest.raises(ValueError, match="outside static"):
        fetcher.fetch(fetcher.base_url + "leak.txt")


def test_static_dir_itself_is_refused(static_dir: Path) -> None:
    fetcher = StaticOnlyFetcher(static_dir)
    with pytest.raises(ValueError, match="outside static"):
        fetcher.fetch(fetcher.base_url)


def test_http_to_loopback_sends_no_request(static_dir: Path, listener: Any) -> None:
    fetcher = StaticOnlyFetcher(static_dir)
    with pytest.raises(ValueError, match="blocked"):
        fetcher.fetch(listener.url + "/leak.css")
    with pytest.raises(ValueError, match="blocked"):
        fetcher.open(Request(listener.url + "/request.css"))
    # A refused Request object must not be replayed by the next (allowed) fetch.
    fetcher.fetch("data:text/plain,ok")
    assert listener.hits == []
