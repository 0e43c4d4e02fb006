"""Background entry points: a worker process builds the app once, and services enqueue them by name."""

from __future__ import annotations

from flask import current_app, has_app_context

from vendorcheck import jobs


def test_a_worker_builds_the_app_once_and_runs_inside_it(app, monkeypatch):
    built = []

    def create_app():
        built.append(1)
        return app

    monkeypatch.setattr("vendorcheck.create_app", create_app)
    monkeypatch.setattr(jobs, "_app", None)
    assert not has_app_context()
    assert jobs._in_app(lambda: current_app.name) == app.name
    assert jobs._in_app(lambda: has_app_context()) is True
    assert built == [1]


def test_inside_a_request_or_command_the_current_app_is_used(app, monkeypatch):
    monkeypatch.setattr("vendorcheck.create_app", lambda: (_ for _ in ()).throw(AssertionError("built")))
    with app.app_context():
        assert jobs._in_app(lambda x: x + 1, 1) == 2


def test_services_name_every_entry_point_that_exists():
    import re
    from pathlib import Path

    root = Path(jobs.__file__).parent
    named = set()
    for path in root.rglob("*.py"):
        named |= set(re.findall(r'"vendorcheck\.jobs\.(\w+)"', path.read_text()))
    assert named == {"deliver_mail", "deliver_webhook", "build_pack", "daily_reminders", "rescore_assessment"}
    assert all(callable(getattr(jobs, name)) for name in named)
