"""The PDF stack (WeasyPrint, pyHanko) is imported only when something renders, signs or verifies.

Each check runs in a fresh interpreter: this test session has long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PDF_STACK = ("weasyprint", "pyhanko", "pyhanko_certvalidator")


def _loaded_after(code: str, tmp_path: Path) -> list[str]:
    """Run `code` in a new interpreter; return which PDF-stack modules it left in sys.modules."""
    probe = (f"import json, sys\n{code}\n"
             f"print(json.dumps(sorted(m for m in {PDF_STACK!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_command_line_loads_no_pdf_stack(tmp_path: Path) -> None:
    """`vendorcheck <command>` starts without WeasyPrint or pyHanko (about 1 s of imports)."""
    assert _loaded_after("import vendorcheck.cli", tmp_path) == []


def test_importing_the_command_line_loads_no_service_or_model(tmp_path: Path) -> None:
    """Commands import what they use when they run: start-up is Click and Flask only."""
    code = ("import vendorcheck.cli\n"
            "heavy = sorted(m for m in sys.modules if m.startswith(('vendorcheck.services', "
            "'vendorcheck.models', 'sqlalchemy')))\n"
            "assert not heavy, heavy")
    _loaded_after(code, tmp_path)


def test_building_the_app_loads_no_pdf_stack(tmp_path: Path) -> None:
    """Commands that use the database build the app when they run: that needs no PDF stack either."""
    code = ("from vendorcheck import create_app\n"
            f"create_app({{'SECRET_KEY': 'lazy-import-test-key', 'TESTING': True, "
            f"'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path / 'db.sqlite3'}'}})")
    assert _loaded_after(code, tmp_path) == []


USES = {
    "weasyprint": "from vendorcheck.pdf import render_pdf",
    "pyhanko": "from vendorcheck.pdf import load_signer\n"
               "try:\n    load_signer(b'not a key', b'x')\nexcept ValueError:\n    pass",
}


@pytest.mark.parametrize("module", ["weasyprint", "pyhanko"])
def test_the_library_is_loaded_when_used(module: str, tmp_path: Path) -> None:
    """The PDF package still offers every name; using one loads its library then."""
    assert module in _loaded_after(USES[module], tmp_path)
