"""Run the benchmarks: `python -m benchmarks [--quick] [name ...]`.

Every module `benchmarks/bench_<name>.py` with a `main()` is found and run, in name order; a
`main` that takes a `quick` argument gets the --quick flag (small sizes, short runs).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import time
from collections.abc import Callable
from pathlib import Path


def discover() -> dict[str, Callable[..., None]]:
    """Return {name: main} for every bench_<name> module of this package."""
    folder = str(Path(__file__).resolve().parent)
    benches = {}
    for info in sorted(pkgutil.iter_modules([folder]), key=lambda m: m.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"benchmarks.{info.name}")
            benches[info.name.removeprefix("bench_")] = module.main
    return benches


def run(name: str, bench: Callable[..., None], *, quick: bool) -> None:
    """Run one benchmark, passing quick= when it takes it, and print its wall time."""
    print(f"== {name}{' (quick)' if quick else ''}", flush=True)
    start = time.perf_counter()
    if "quick" in inspect.signature(bench).parameters:
        bench(quick=quick)
    else:
        bench()
    print(f"   ({name}: {time.perf_counter() - start:.1f} s)", flush=True)


def main(argv: list[str]) -> int:
    """Run the named benchmarks, or all of them."""
    quick = "--quick" in argv
    names = [a for a in argv if a != "--quick"]
    benches = discover()
    for name in names:
        if name not in benches:
            print(f"unknown benchmark {name!r}; choose from {', '.join(benches)}", file=sys.stderr)
            return 2
    for name in names or list(benches):
        run(name, benches[name], quick=quick)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
