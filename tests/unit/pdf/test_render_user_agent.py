"""Renders use a lean user-agent stylesheet: no per-element footnote/note/marker styles, same PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tinycss2
from weasyprint import HTML
from weasyprint.html import UA as WEASYPRINT_UA
from weasyprint.html import UA_STYLESHEET

from tests.unit.pdf.conftest import REPORT_HTML
from vendorcheck.pdf import render
from vendorcheck.pdf.render import LeanHTML, lean_user_agent_css, render_pdf

BODY = (
    "<h2>Lists</h2><ul><li>one</li><li>two<ol><li>nested</li></ol></li></ul>"
    "<p>Text with <b>bold</b>, <a href='https://example.org'>a link</a> and<br>a break.</p>"
    "<table><tr><th>head</th><td>cell</td></tr></table><ol start='3'><li>three</li></ol>"
)
CSS = "li::marker { color: #a11d21; } @page { @bottom-left { content: counter(page); } }"


def _selectors(css: str) -> list[str]:
    """Return the preludes of a stylesheet's style rules (at-rules skipped)."""
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return [tinycss2.serialize(rule.prelude).strip() for rule in rules if rule.type == "qualified-rule"]


def test_lean_sheet_drops_only_the_universal_pseudo_element_rules() -> None:
    full, lean = _selectors(WEASYPRINT_UA), _selectors(lean_user_agent_css(WEASYPRINT_UA))
    universal = [s for s in full if s.startswith("::")]
    assert {s.split(" ")[0] for s in universal} == {
        "::marker", "::footnote-call", "::footnote-marker", "::note-call", "::note-marker",
        "::note-callback"}
    assert not [s for s in lean if s.startswith("::")]
    assert [s for s in full if not s.startswith("::")] == [s for s in lean if s != "li::marker"]
    assert "li::marker" in lean


def test_weasyprint_hook_still_returns_its_full_sheet_first() -> None:
    # LeanHTML replaces the first sheet of this hook: a WeasyPrint upgrade changing it fails here.
    assert HTML(string="<p>x</p>")._ua_stylesheets()[0] is UA_STYLESHEET
    sheets = LeanHTML(string="<p>x</p>")._ua_stylesheets(forms=True)
    assert sheets[0] is render.LEAN_USER_AGENT_STYLESHEET
    assert sheets[1:] == HTML(string="<p>x</p>")._ua_stylesheets(forms=True)[1:]


@pytest.mark.slow
def test_same_pdf_as_with_the_full_sheet(static_dir: Path, monkeypatch: Any) -> None:
    html = REPORT_HTML.format(body=BODY * 30)
    lean = render_pdf(html, static_dir=static_dir, stylesheets=[CSS], pdf_variant="pdf/a-3a")
    monkeypatch.setattr(LeanHTML, "_ua_stylesheets", HTML._ua_stylesheets)
    full = render_pdf(html, static_dir=static_dir, stylesheets=[CSS], pdf_variant="pdf/a-3a")
    assert lean == full
