"""Renders reuse their thread's fonts and parsed stylesheets, collect garbage less, same bytes."""

from __future__ import annotations

import gc
import hashlib
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.unit.pdf.conftest import REPORT_HTML
from vendorcheck.pdf import render
from vendorcheck.pdf.render import render_pdf

pytestmark = pytest.mark.slow

T = TypeVar("T")
CSS_A = "h1 { color: #1f3a5f; } p { margin: 0 0 2mm; }"
CSS_B = "h1 { color: #a11d21; font-size: 20pt; } p { font-style: italic; }"
PAGE_A = REPORT_HTML.format(body="<p>alpha</p>" * 40)
PAGE_B = REPORT_HTML.format(body="<table><tr><td>beta</td><td>gamma</td></tr></table>" * 20)


def in_new_thread(work: Callable[[], T]) -> T:
    """Run `work` in a fresh thread (so with empty per-thread caches) and return its result."""
    results: list[T] = []
    thread = threading.Thread(target=lambda: results.append(work()))
    thread.start()
    thread.join()
    assert results, "the render in the thread failed"
    return results[0]


class Counting:
    """Wrap a class and count how many instances are made."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.made: list[Any] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        instance = self.cls(*args, **kwargs)
        self.made.append(instance)
        return instance


def test_renders_in_one_thread_share_fonts_and_parsed_stylesheets(
    static_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fonts = Counting(render.FontConfiguration)
    sheets = Counting(render.CSS)
    monkeypatch.setattr(render, "FontConfiguration", fonts)
    monkeypatch.setattr(render, "CSS", sheets)

    def three_renders() -> None:
        for page in (PAGE_A, PAGE_B, PAGE_A):
            render_pdf(page, static_dir=static_dir, stylesheets=[CSS_A])

    in_new_thread(three_renders)
    assert len(fonts.made) == 1
    assert len(sheets.made) == 1
    in_new_thread(three_renders)  # another thread: its own font configuration (Pango is not shared)
    assert len(fonts.made) == 2
    assert fonts.made[0] is not fonts.made[1]


def test_warm_caches_give_the_bytes_of_a_cold_render(static_dir: Path) -> None:
    def digest(page: str, css: str) -> str:
        return hashlib.sha256(render_pdf(page, static_dir=static_dir, stylesheets=[css])).hexdigest()

    def warm() -> list[str]:
        return [digest(PAGE_A, CSS_A), digest(PAGE_B, CSS_B), digest(PAGE_A, CSS_A)]

    first_a, b, again_a = in_new_thread(warm)
    assert first_a == again_a
    assert in_new_thread(lambda: digest(PAGE_B, CSS_B)) == b


def test_the_stylesheet_cache_stays_small(static_dir: Path) -> None:
    def many_sheets() -> int:
        for size in range(render.MAX_CACHED_STYLESHEETS + 3):
            render_pdf("<p>x</p>", static_dir=static_dir, stylesheets=[f"p {{ font-size: {size + 6}pt }}"])
        return len(render._caches.stylesheets)

    assert in_new_thread(many_sheets) <= render.MAX_CACHED_STYLESHEETS


def test_the_collector_runs_less_often_during_a_render_only(
    static_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []
    fetch = render.StaticOnlyFetcher._fetch_static_file

    def spying_fetch(self: render.StaticOnlyFetcher, url: str) -> Any:
        seen.append(gc.get_threshold())
        return fetch(self, url)

    monkeypatch.setattr(render.StaticOnlyFetcher, "_fetch_static_file", spying_fetch)
    before = gc.get_threshold()
    render_pdf('<p><img src="img/logo.png"></p>', static_dir=static_dir)
    assert seen and seen[0][0] == render.RENDER_GC_THRESHOLD
    assert seen[0][1:] == before[1:]
    assert gc.get_threshold() == before


def test_the_collector_threshold_is_restored_when_a_render_fails(static_dir: Path) -> None:
    before = gc.get_threshold()
    with pytest.raises(ValueError, match="unsupported"):
        render_pdf("<p>x</p>", static_dir=static_dir, pdf_variant="pdf/x-4")
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure inside WeasyPrint
        render_pdf("<p>x</p>", static_dir=static_dir, stylesheets=[object()])  # type: ignore[list-item]
    assert gc.get_threshold() == before


def test_the_garbage_of_a_render_is_freed_when_it_ends(
    static_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[weakref.ref[Any]] = []
    fetch = render.StaticOnlyFetcher._fetch_static_file

    def fetch_leaving_a_cycle(self: render.StaticOnlyFetcher, url: str) -> Any:
        cycle: dict[str, Any] = {}
        cycle["self"] = cycle  # only the collector frees it, as WeasyPrint's boxes
        made.append(weakref.ref(Cycle(cycle)))
        return fetch(self, url)

    monkeypatch.setattr(render.StaticOnlyFetcher, "_fetch_static_file", fetch_leaving_a_cycle)
    gc.disable()  # no collection but the render's own
    try:
        render_pdf('<p><img src="img/logo.png"></p>', static_dir=static_dir)
        assert made and made[0]() is None
    finally:
        gc.enable()


class Cycle:
    """An object in a reference cycle (a weakref can point at it, unlike a dict)."""

    def __init__(self, holder: dict[str, Any]) -> None:
        holder["cycle"] = self
        self.holder = holder
