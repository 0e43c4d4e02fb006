"""Run the benchmarks: `python -m benchmarks [--quick] [--pg URL] [name ...]`.

Every module `benchmarks/bench_<name>.py` with a `main()` is found and run, in name order; a
`main` that takes a `quick` argument gets the --quick flag (small sizes, short runs), one that
takes `pg` gets --pg URL (a PostgreSQL database of your own: the benchmarks empty it and seed it).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import timing


def discover() -> dict[str, Callable[..., None]]:
    """Return {name: main} for every bench_<name> module of this package."""
    folder = str(Path(__file__).resolve().parent)
    benches = {}
    for info in sorted(pkgutil.iter_modules([folder]), key=lambda m: m.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"benchmarks.{info.name}")
            benches[info.name.removeprefix("bench_")] = module.main
    return benches


def run(name: str, bench: Callable[..., None], *, quick: bool, pg: str | None = None) -> None:
    """Run one benchmark, passing quick= and pg= when it takes them, and print its wall time."""
    parameters = inspect.signature(bench).parameters
    kwargs: dict[str, object] = {}
    if "quick" in parameters:
        kwargs["quick"] = quick
    if pg and "pg" in parameters:
        kwargs["pg"] = pg
    database = " (PostgreSQL)" if "pg" in kwargs else ""
    print(f"== {name}{' (quick)' if quick else ''}{database} [{timing.machine()}]", flush=True)
    start = time.perf_counter()
    bench(**kwargs)
    print(f"   ({name}: {time.perf_counter() - start:.1f} s) [{timing.machine()}]", flush=True)


def main(argv: list[str]) -> int:
    """Run the named benchmarks, or all of them."""
    args = list(argv)
    quick = "--quick" in args
    pg = None
    if "--pg" in args:
        at = args.index("--pg")
        if at + 1 >= len(args) or not args[at + 1].startswith("postgresql"):
            print("--pg needs a PostgreSQL URL (postgresql://...)", file=sys.stderr)
            return 2
        pg = args[at + 1]
        del args[at:at + 2]
    names = [a for a in args if a != "--quick"]
    benches = discover()
    for name in names:
        if name not in benches:
            print(f"unknown benchmark {name!r}; choose from {', '.join(benches)}", file=sys.stderr)
            return 2
    for name in names or list(benches):
        run(name, benches[name], quick=quick, pg=pg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
