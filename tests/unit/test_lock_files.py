"""The lock files pin exactly what setup.cfg's ranges allow, with hashes, and agree with each other."""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from lock_diff import changes, pins  # noqa: E402  (a script, not a package)

RUNTIME = ROOT / "requirements" / "runtime.txt"
DEV = ROOT / "requirements" / "dev.txt"


def _requirements(*extras: str) -> list[Requirement]:
    """Return setup.cfg's install_requires plus the named extras."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lines = cfg["options"]["install_requires"].splitlines()
    for extra in extras:
        lines += cfg["options.extras_require"][extra].splitlines()
    build = (ROOT / "requirements" / "build.in").read_text().splitlines()
    lines += [line for line in build if line and not line.startswith("#")]
    return [Requirement(line) for line in lines if line.strip()]


def _versions(lock: Path) -> dict[str, str]:
    """Return {canonical name: version} of the lock's pins that apply on this Python."""
    return {canonicalize_name(name.split(" ;")[0]): version for name, version in pins(lock).items()
            if " ;" not in name or _applies(name.split(" ; ", 1)[1])}


def _applies(marker: str) -> bool:
    """Whether a lock line's environment marker holds here."""
    return Requirement(f"x ; {marker}").marker.evaluate()  # type: ignore[union-attr]


@pytest.mark.parametrize(("lock", "extras"), [(RUNTIME, ("postgres",)), (DEV, ("dev", "postgres"))])
def test_every_range_of_setup_cfg_is_pinned_inside_the_range(lock: Path, extras: tuple[str, ...]) -> None:
    locked = _versions(lock)
    wrong = []
    for req in _requirements(*extras):
        version = locked.get(canonicalize_name(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            wrong.append(f"{req} locked at {version}")
    assert not wrong, "setup.cfg and the lock disagree; run `make lock`: " + "; ".join(wrong)


def test_runtime_and_dev_pin_the_same_versions() -> None:
    runtime, dev = pins(RUNTIME), pins(DEV)
    assert not changes(runtime, {name: dev.get(name, "(missing)") for name in runtime})


@pytest.mark.parametrize("lock", [RUNTIME, DEV])
def test_every_pin_has_a_hash(lock: Path) -> None:
    blocks = lock.read_text().split("\n")
    pinned = [i for i, line in enumerate(blocks) if "==" in line and not line.startswith((" ", "#"))]
    assert len(pinned) > 50
    for index in pinned:
        assert blocks[index + 1].strip().startswith("--hash=sha256:"), blocks[index]


def test_lock_diff_names_moves_additions_and_removals() -> None:
    old = {"pyyaml": "6.0.3", "gone": "1.0", "same": "2.0"}
    new = {"pyyaml": "6.0.4", "fresh": "0.1", "same": "2.0"}
    assert changes(old, new) == ["  fresh: (new) -> 0.1", "  gone: 1.0 -> (removed)",
                                 "  pyyaml: 6.0.3 -> 6.0.4"]
