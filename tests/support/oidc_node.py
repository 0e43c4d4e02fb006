"""Start the npm `oidc-provider` of tests/support/oidc on 127.0.0.1 (installed with `npm ci` on first use)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

FOLDER = Path(__file__).parent / "oidc"
INSTALLED = FOLDER / "node_modules" / "oidc-provider" / "package.json"


def ensure_installed() -> None:
    """Install the locked npm packages once (`npm ci`); skip (fail on CI) when node or npm is missing."""
    if INSTALLED.exists() and INSTALLED.stat().st_mtime >= (FOLDER / "package-lock.json").stat().st_mtime:
        return
    if not shutil.which("node") or not shutil.which("npm"):
        if os.environ.get("CI"):
            pytest.fail("node and npm are needed for the OpenID provider of the SSO tests", pytrace=False)
        pytest.skip("node and npm are needed for the OpenID provider of the SSO tests")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FOLDER, check=True,
                   timeout=600)
    INSTALLED.touch()


@contextmanager
def oidc_provider(*, clients: list[dict[str, Any]], accounts: dict[str, dict[str, Any]]) -> Iterator[str]:
    """Run the provider with these clients and accounts; yield its issuer URL, stop it after."""
    ensure_installed()
    settings = json.dumps({"clients": clients, "accounts": accounts})
    with tempfile.TemporaryFile(mode="w+") as errors:  # a file, not a pipe: nobody reads it meanwhile
        process = subprocess.Popen(["node", "provider.mjs", settings], cwd=FOLDER, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                errors.seek(0)
                raise RuntimeError(f"the OpenID provider did not start: {errors.read()}")
            yield str(json.loads(line)["issuer"])
        finally:
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
