"""Run every benchmark: `python -m benchmarks [name ...]`."""

from __future__ import annotations

import sys

from benchmarks import bench_scoring

BENCHES = {"scoring": bench_scoring.main}


def main(argv: list[str]) -> int:
    """Run the named benchmarks, or all of them."""
    names = argv or list(BENCHES)
    for name in names:
        if name not in BENCHES:
            print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHES)}", file=sys.stderr)
            return 2
        print(f"== {name}")
        BENCHES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
