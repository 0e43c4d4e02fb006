"""The benchmarks' code paths at tiny sizes: servers start and stop, figures come out (no timing)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from benchmarks import __main__ as runner
from benchmarks import (
    bench_audit,
    bench_autosave,
    bench_cli,
    bench_dashboard,
    bench_proxy,
    bench_report,
    bench_scoring,
    servers,
)

pytestmark = [
    pytest.mark.slow,
    # WeasyPrint opens its sRGB profile and never closes it (seen in the report's parent process).
    pytest.mark.filterwarnings(r"ignore:unclosed file .*sRGB2014\.icc:ResourceWarning"),
]


def test_every_bench_module_is_discovered() -> None:
    benches = runner.discover()
    assert {"api", "audit", "autosave", "cli", "dashboard", "proxy", "report", "scoring"} <= set(benches)
    assert runner.main(["no-such-bench"]) == 2


def test_autosave_load_against_both_apps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = bench_autosave.measure(tmp_path, seconds=0.3, warmup=0.1, clients=2, requests=5, vendors=2,
                                    vendor_seconds={"saturated": 0.3, "paced": 0.6}, pace=0.1)
    assert result.hello.count > 0 and result.hello.error_count == 0
    assert result.autosave.count > 0
    assert result.autosave.error_count == 0, result.autosave.errors  # logged in, CSRF accepted
    assert result.ratio > 0 and result.floor_ratio > 0
    assert len(result.rounds["autosave"]) == bench_autosave.PAIRS  # slices taken in turn
    assert result.inproc.autosave_ms > 0 and result.inproc.queries >= 3  # load, update, audit
    assert result.vendors == 2  # issue 18's case: each vendor on its own assessment, saturated and paced
    for name in ("autosave", "floor", "autosave paced", "floor paced"):
        side = result.vendor_sides.total(name)
        assert side.count > 0 and side.error_count == 0, (name, side.errors)
        assert len(result.vendor_sides.slices[name]) == bench_autosave.PAIRS
    bench_autosave.print_result(result, 0.3, pace=0.1)
    out = capsys.readouterr().out
    assert "vendorcheck autosave" in out and "ratio autosave/hello-world" in out
    assert "goal: issue 6: autosave" in out and "cores]" in out
    assert "2 concurrent vendors, each on its own assessment" in out
    assert "goal: issue 18: autosave" in out and "(< 100 ms, paced), 2 concurrent vendors" in out


def test_cli_start_up_prints_its_goal(capsys: pytest.CaptureFixture[str]) -> None:
    bench_cli.main(quick=True)
    out = capsys.readouterr().out
    assert "vendorcheck --help: CPU" in out and "import flask CPU" in out
    assert "goal: CLI start-up without the PDF stack" in out and "cores]" in out


def test_the_runner_takes_a_postgresql_url_only() -> None:
    assert runner.main(["--pg"]) == 2
    assert runner.main(["--pg", "sqlite:///x", "scoring"]) == 2


def test_gunicorn_is_stopped_after_the_load(tmp_path: Path) -> None:
    with (servers.gunicorn("benchmarks.servers:hello_app()") as port,
          socket.create_connection(("127.0.0.1", port), timeout=2)):
        pass
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_dashboard_queries_do_not_grow(capsys: pytest.CaptureFixture[str]) -> None:
    bench_dashboard.main(quick=True, sizes=(10, 80))
    out = capsys.readouterr().out
    assert "queries per page constant" in out


def test_report_renders_with_both_engines(tmp_path: Path) -> None:
    rows = bench_report.run((10,), tmp_path, repeat=1)
    assert rows[0].pages >= 4 and rows[0].chromium_pages >= 4  # cover, contents, summary, ...
    assert rows[0].max_rss_mb > 0 and rows[0].sign_s > 0
    assert (tmp_path / "weasy-10.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "chromium-10.pdf").read_bytes().startswith(b"%PDF")
    assert rows[0].chromium_s > 0 and rows[0].ratio > 0 and "cores" in rows[0].load


def test_cached_draft_download_against_a_fresh_render(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cached = bench_report.cached_download(tmp_path, pairs=1)
    assert cached.answers > 0 and cached.pairs.a and cached.pairs.b
    bench_report.print_cached(cached)
    out = capsys.readouterr().out
    assert "goal: cached draft download" in out and "cores]" in out


def test_scoring_quick(capsys: pytest.CaptureFixture[str]) -> None:
    bench_scoring.main(quick=True)
    assert "growth column" in capsys.readouterr().out


def test_autosave_through_the_proxy_against_the_same_stack_floor(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # nginx (TLS) -> gunicorn on our settings -> a PostgreSQL database of its own, and Redis.
    result = bench_proxy.measure(tmp_path, vendors=2, seconds=0.6, pairs=1, warmup=0.1, workers=2, pace=0.1)
    for name in ("autosave", "floor", "autosave paced", "floor paced"):
        total = result.total(name)
        assert total.count > 0 and total.error_count == 0, (name, total.errors)  # logged in, CSRF accepted
        assert len(result.slices[name]) == 1
    assert result.ratio() > 0 and result.ratio("autosave paced", "floor paced", "p50") > 0
    bench_proxy.print_result(result, 0.6, pace=0.1)
    out = capsys.readouterr().out
    assert "saturated: autosave/floor" in out and "cores]" in out
    assert "vendors saturated" in out and "vendors paced" in out  # the goal, judged on both phases


def test_the_proxy_bench_drops_its_database(tmp_path: Path) -> None:
    import psycopg

    from benchmarks import stack

    with stack.database(bench_proxy.PG_ADMIN_URL, "vc_bench_smoke") as url:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (name,)
    with psycopg.connect(bench_proxy.PG_ADMIN_URL) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None


def test_api_pages_and_answer_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_api, seed

    runs = bench_api.measure_pages((5, 30), seed.sqlite_url(tmp_path / "api.sqlite3"))
    assert all(len(pages) >= 1 for pages in runs.values())
    assert sum(items for _s, _q, items in runs[30]) >= 20  # most vendors have an assessment
    pairs, per_api, per_web = bench_api.measure_writes(seed.sqlite_url(tmp_path / "write.sqlite3"), 5)
    assert pairs.a_ms > 0 and pairs.b_ms > 0 and per_api >= 3 and per_web >= 3


def test_audit_appends_in_own_and_shared_chains(capsys: pytest.CaptureFixture[str]) -> None:
    bench_audit.main(quick=True)
    out = capsys.readouterr().out
    assert "ratio own chains / one chain" in out and "every chain verifies: True" in out
