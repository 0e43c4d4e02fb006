"""Command-line start-up: whole `vendorcheck` processes listing commands, against `python -c 'import flask'`.

Each command and the baseline run in turn (A B A B ...), five pairs after one warm-up each; every figure is
a whole process, its CPU seconds (user + system, the kernel's accounting of the finished child) and its wall
time. The ratio is the median of the pairs' CPU ratios. Goal (issue 18): CLI start-up without the PDF stack
< 0.5 s of CPU for each command below (none builds the app).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import timing

COMMANDS = (["--help"], ["questionnaires", "--help"], ["audit", "--help"])
BASELINE = [sys.executable, "-c", "import flask"]
GOAL_CPU_S = 0.5


def console_script() -> str:
    """Return the `vendorcheck` console script installed beside this interpreter."""
    return str(Path(sys.executable).with_name("vendorcheck"))


def run_once(argv: list[str], cwd: str) -> tuple[float, float]:
    """Run argv to its end; return (CPU s of the child, wall s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def in_turn(argv: list[str], cwd: str, pairs: int = timing.MIN_PAIRS) -> tuple[timing.Pairs, timing.Pairs]:
    """Run argv and the baseline in turn; return the (CPU, wall) pairs."""
    run_once(argv, cwd)
    run_once(BASELINE, cwd)
    cpu_a, cpu_b, wall_a, wall_b = [], [], [], []
    for _ in range(pairs):
        cpu, wall = run_once(argv, cwd)
        cpu_a.append(cpu)
        wall_a.append(wall)
        cpu, wall = run_once(BASELINE, cwd)
        cpu_b.append(cpu)
        wall_b.append(wall)
    return timing.Pairs(cpu_a, cpu_b), timing.Pairs(wall_a, wall_b)


def main(quick: bool = False) -> None:
    """Print each command's start-up against the baseline's, and the goal."""
    script = console_script()
    slowest = 0.0
    with tempfile.TemporaryDirectory() as cwd:  # no .env/.flaskenv from the checkout
        for args in COMMANDS[:1] if quick else COMMANDS:
            cpu, wall = in_turn([script, *args], cwd)
            slowest = max(slowest, statistics.median(cpu.a))
            print(f"vendorcheck {' '.join(args)}: CPU {cpu.a_ms:.0f} ms, wall {wall.a_ms:.0f} ms; "
                  f"import flask CPU {cpu.b_ms:.0f} ms; ratio {cpu.ratio:.2f}x "
                  f"(medians of {timing.MIN_PAIRS} pairs in turn) [{timing.machine()}]")
    print(timing.goal(f"CLI start-up without the PDF stack {slowest:.2f} s CPU (< {GOAL_CPU_S:g} s)",
                      slowest < GOAL_CPU_S))
