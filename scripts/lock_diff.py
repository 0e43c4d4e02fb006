"""Print the packages whose pinned version differs between two lock files (for `make upgrade`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def pins(path: Path) -> dict[str, str]:
    """Return {name (with its marker, if any): version} for every pinned line of a lock file."""
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            found[name.lower() + (f" ; {marker}" if marker else "")] = version
    return found


def changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Describe added, removed and moved pins, one line each, sorted by name."""
    lines = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before != after:
            lines.append(f"  {name}: {before or '(new)'} -> {after or '(removed)'}")
    return lines


def main(argv: list[str]) -> int:
    """Compare the two files named on the command line."""
    lines = changes(pins(Path(argv[1])), pins(Path(argv[2])))
    print("\n".join(lines) if lines else "  nothing: every pin is already the newest allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
