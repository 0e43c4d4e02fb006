"""Browser-test fixtures: Debian's chromium through Playwright, and a live app per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.live import CHROMIUM, CHROMIUM_ARGS, Live, live_server


def _unavailable(reason: str) -> None:
    """Fail on CI (the browser is part of the set-up there); skip on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (set CI=1 to make this an error)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Launch Debian's chromium once per module (never a downloaded browser).

    Not per session: Playwright's sync API keeps an asyncio loop running in the main thread while
    it is open, and pyHanko's signing (asyncio.run) in later in-process tests would then fail.
    """
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing; install Debian's chromium package")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e .[dev])")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """Serve a fresh app (own SQLite file, SMTP server, evidence folder) on 127.0.0.1."""
    with live_server(tmp_path) as running:
        yield running
        assert not running.server_errors, f"the app answered a server error: {running.server_errors}"


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open browser contexts (separate cookie jars) that are closed after the test."""
    contexts: list[Any] = []

    def _open(**options: Any) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
        contexts.append(context)
        return context

    yield _open
    for context in contexts:
        context.close()
