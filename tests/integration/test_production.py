"""What production refuses to start without, the trusted proxies, and the store's ping."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from tests.conftest import make_config
from vendorcheck import create_app, storage
from vendorcheck.gunicorn_conf import redact_path
from vendorcheck.storage import Area, LocalStore, StoreUnavailable

POSTGRES = "postgresql://vendorcheck@127.0.0.1:1/vendorcheck"  # never connected to at boot

# Redis index 6 is shared by these modules: `make test` runs them on one pytest-xdist worker.
pytestmark = [pytest.mark.usefixtures("limiter_restored"), pytest.mark.xdist_group("redis-db-6")]


@pytest.fixture
def store_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the local store of the apps built here in a temporary folder (not the instance folder)."""
    root = tmp_path / "files"
    monkeypatch.setitem(storage.BACKENDS, "local", lambda app: LocalStore.under(root))
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    return root


def production(tmp_path: Path, **overrides: Any) -> Flask:
    """Build a production app: PostgreSQL, Redis-backed limits, one process, unless overridden."""
    config = make_config(tmp_path, ENV="production", TESTING=False, SQLALCHEMY_DATABASE_URI=POSTGRES,
                         SECRET_KEY="a-production-secret-key-0123456789",
                         RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/6")
    config.update(overrides)
    return create_app(config)


def test_a_complete_production_configuration_starts(tmp_path: Path, store_root: Path) -> None:
    app = production(tmp_path, WEB_CONCURRENCY=4, INSTANCES=2)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert (store_root / "evidence").is_dir()  # the store's ping made and tried every area's folder


@pytest.mark.parametrize("key", [None, "", "short"])
def test_production_needs_a_secret_key(tmp_path: Path, store_root: Path, key: str | None) -> None:
    with pytest.raises(RuntimeError, match="VENDORCHECK_SECRET_KEY"):
        production(tmp_path, SECRET_KEY=key)


@pytest.mark.parametrize("processes", [{"WEB_CONCURRENCY": 2}, {"INSTANCES": 2}])
def test_production_refuses_sqlite_for_more_than_one_process(tmp_path: Path, store_root: Path,
                                                             processes: dict[str, int]) -> None:
    sqlite = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    with pytest.raises(RuntimeError, match="VENDORCHECK_SQLALCHEMY_DATABASE_URI") as refused:
        production(tmp_path, SQLALCHEMY_DATABASE_URI=sqlite, **processes)
    assert "PostgreSQL" in str(refused.value) and "\n" not in str(refused.value)


def test_production_counts_the_workers_gunicorn_announces(tmp_path: Path, store_root: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    sqlite = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    assert production(tmp_path, SQLALCHEMY_DATABASE_URI=sqlite).config["WEB_CONCURRENCY"] == 1
    monkeypatch.setenv("WEB_CONCURRENCY", "3")  # what gunicorn.conf.py's on_starting sets
    with pytest.raises(RuntimeError, match="SQLite cannot serve 3 web processes"):
        production(tmp_path, SQLALCHEMY_DATABASE_URI=sqlite)


def test_production_refuses_in_memory_rate_limits_for_more_than_one_process(tmp_path: Path,
                                                                            store_root: Path) -> None:
    with pytest.raises(RuntimeError, match="VENDORCHECK_REDIS_URL"):
        production(tmp_path, RATELIMIT_STORAGE_URI="memory://", INSTANCES=3)
    # One process keeps its limits to itself: nothing to share.
    assert production(tmp_path, RATELIMIT_STORAGE_URI="memory://")


def test_redis_takes_the_rate_limits_when_configured(tmp_path: Path, store_root: Path) -> None:
    app = production(tmp_path, RATELIMIT_STORAGE_URI="memory://", REDIS_URL="redis://127.0.0.1:6379/6",
                     WEB_CONCURRENCY=4)
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/6"


def test_production_refuses_a_store_it_cannot_write(tmp_path: Path, store_root: Path) -> None:
    store_root.write_text("a file where the folders should be")
    with pytest.raises(RuntimeError, match="storage backend 'local' cannot be used") as refused:
        production(tmp_path)
    assert "VENDORCHECK_STORAGE_BACKEND" in str(refused.value)


def test_development_does_not_ping_the_store(tmp_path: Path, store_root: Path) -> None:
    store_root.write_text("not a folder")
    assert create_app(make_config(tmp_path))  # `make run` and the tests never stop on the store


@pytest.mark.parametrize(("name", "value"), [("PROXY_COUNT", -1), ("PROXY_COUNT", "two"),
                                             ("INSTANCES", 0), ("WEB_CONCURRENCY", "x")])
def test_counts_must_be_whole_numbers(tmp_path: Path, store_root: Path, name: str, value: object) -> None:
    with pytest.raises(RuntimeError, match=name):
        create_app(make_config(tmp_path, **{name: value}))


def test_the_local_store_ping(tmp_path: Path) -> None:
    LocalStore.under(tmp_path / "instance").ping()
    assert {p.name for p in (tmp_path / "instance").iterdir()} >= {"evidence", "dpa_certificates"}
    assert not list((tmp_path / "instance" / "evidence").iterdir())  # the test file is gone
    blocked = LocalStore(lambda area: tmp_path / "blocked" if area is Area.PACKS else tmp_path / area.value)
    (tmp_path / "blocked").write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="packs"):
        blocked.ping()


def _addresses(app: Flask) -> Any:
    @app.get("/_test/address")
    def address() -> dict[str, str]:
        return {"addr": request.remote_addr or "", "scheme": request.scheme}

    return app.test_client()


def test_without_proxy_count_forwarded_headers_are_ignored(tmp_path: Path) -> None:
    client = _addresses(create_app(make_config(tmp_path)))
    seen = client.get("/_test/address", headers={"X-Forwarded-For": "198.51.100.7",
                                                 "X-Forwarded-Proto": "https"}).get_json()
    assert seen == {"addr": "127.0.0.1", "scheme": "http"}


def test_proxy_count_trusts_that_many_forwarded_hops(tmp_path: Path) -> None:
    client = _addresses(create_app(make_config(tmp_path, PROXY_COUNT=1)))
    # A client forged the first address; nginx appended the one it saw: only that one is trusted.
    seen = client.get("/_test/address", headers={"X-Forwarded-For": "10.6.6.6, 198.51.100.7",
                                                 "X-Forwarded-Proto": "https"}).get_json()
    assert seen == {"addr": "198.51.100.7", "scheme": "https"}


def test_every_token_route_is_logged_without_its_token(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    token_rules = [rule.rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert token_rules
    for rule in token_rules:
        path = rule.replace("<token>", "SeCrEt-T0ken")
        assert "SeCrEt" not in redact_path(path), rule


def test_the_instance_folder_can_be_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENDORCHECK_INSTANCE_PATH", str(tmp_path / "state"))
    app = create_app(make_config(tmp_path))
    assert app.instance_path == str(tmp_path / "state")
    with app.app_context():
        assert storage.current_store().save(Area.REPORTS, io.BytesIO(b"%PDF-")).size == 5
    assert len(list((tmp_path / "state" / "reports").iterdir())) == 1
    monkeypatch.setenv("VENDORCHECK_INSTANCE_PATH", "relative/state")
    with pytest.raises(RuntimeError, match="VENDORCHECK_INSTANCE_PATH must be an absolute path"):
        create_app(make_config(tmp_path))


def _s3(endpoint: str, bucket: str) -> dict[str, object]:
    return {"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": bucket, "STORAGE_S3_ENDPOINT_URL": endpoint,
            "STORAGE_S3_REGION": "us-east-1", "STORAGE_S3_ADDRESSING_STYLE": "path"}


def test_production_pings_the_bucket_at_boot(tmp_path: Path, store_root: Path, s3_endpoint: str) -> None:
    from tests.support import s3

    with pytest.raises(RuntimeError, match="storage backend 's3' cannot be used") as refused:
        production(tmp_path, **_s3(s3_endpoint, "no-such-bucket"))
    assert "no-such-bucket" in str(refused.value) and "\n" not in str(refused.value)
    app = production(tmp_path, **_s3(s3_endpoint, s3.new_bucket(s3_endpoint)))
    assert app.test_client().get("/readyz").get_json()["checks"]["storage"] == "ok"
