"""Accessibility checks in the browser tests: axe-core, installed from tests/e2e/axe/package-lock.json.

`axe_script()` runs `npm ci --no-audit --no-fund` in tests/e2e/axe once (when axe-core is not there yet)
and returns the path of axe.min.js; `assert_accessible(page, what)` injects it into the page, runs it and
fails on any serious or critical violation, naming each rule and the elements it found.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

FOLDER = Path(__file__).resolve().parent / "axe"
SCRIPT = FOLDER / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = frozenset({"serious", "critical"})
# WCAG 2.0/2.1/2.2 A and AA rules, the level the product aims at (docs/accessibility in the README).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_script() -> Path:
    """Return axe.min.js, installing the locked axe-core with npm first if needed."""
    if SCRIPT.is_file():
        return SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the accessibility checks need it to install axe-core")
    with (FOLDER / ".install.lock").open("w") as lock:  # parallel workers install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not SCRIPT.is_file():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=FOLDER,
                           check=True, capture_output=True, timeout=300)
    return SCRIPT


def violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page and return its serious and critical violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script()))
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})).violations", TAGS)
    return [v for v in found if v.get("impact") in BLOCKING]


def assert_accessible(page: Any, what: str) -> None:
    """Fail with each serious or critical violation of the page (rule, help, elements)."""
    problems = violations(page)
    lines = [f"{v['id']} ({v['impact']}): {v['help']} — "
             + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5]) for v in problems]
    assert not problems, f"{what}: {len(problems)} accessibility problem(s)\n" + "\n".join(lines)
