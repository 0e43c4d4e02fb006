"""The Alembic migrations build exactly the schema the models describe, on SQLite and, when the
suite runs on PostgreSQL, on PostgreSQL too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB_URL, make_config
from vendorcheck import create_app
from vendorcheck.extensions import db

# The suite's own database holds tables made by the models: the migrations run apart from it.
DATABASES = ["sqlite"] + (["postgresql"] if (TEST_DB_URL or "").startswith("postgresql") else [])


@pytest.fixture(params=DATABASES)
def fresh_app(request: pytest.FixtureRequest, tmp_path) -> Iterator[Flask]:
    """An app on an empty database of its own: a SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield _app(tmp_path, f"sqlite:///{tmp_path / 'm.sqlite3'}")
        return
    assert TEST_DB_URL is not None
    schema = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(TEST_DB_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(TEST_DB_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield _app(tmp_path, url.render_as_string(hide_password=False))
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _app(tmp_path, url: str) -> Flask:
    return create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))


# SQLite's reflection cannot read an index on an expression, so the comparison below leaves those
# out (with this warning); test_expression_indexes_match_the_models checks them by name and text.
EXPRESSION_INDEXES = {"ix_vendor_buyer_name": "lower(legal_name)"}


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_models(fresh_app):
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == [], f"run `flask db migrate`: the models differ from the migrations: {diff}"


def test_expression_indexes_match_the_models(fresh_app):
    declared = {index.name: str(index.expressions[1]) for table in db.metadata.tables.values()
                for index in table.indexes if index.name in EXPRESSION_INDEXES}
    assert declared == EXPRESSION_INDEXES  # every expression index of the models is listed above
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "sqlite":
                rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
            else:
                rows = conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes "
                                            "WHERE schemaname = current_schema()")
            built = {name: sql for name, sql in rows if name in EXPRESSION_INDEXES}
        db.engine.dispose()
    assert set(built) == set(EXPRESSION_INDEXES)
    for name, expression in EXPRESSION_INDEXES.items():  # PostgreSQL writes lower((legal_name)::text)
        assert _bare(expression) in _bare(built[name].replace("::text", "")), built[name]


def _bare(sql: str) -> str:
    return "".join(c for c in sql.lower() if c.isalnum() or c == "_")


def test_migrations_downgrade_to_empty(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
    assert tables == set()


def _insert(conn, table: str, **values) -> int:
    """Insert one row with plain SQL (the models describe the head, not this revision); return its id."""
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    return conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id"),
                        values).scalar_one()


def test_latest_assessment_migration_flags_each_vendors_newest_not_cancelled(fresh_app):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with fresh_app.app_context():
        upgrade(revision="a3f7c1e9d4b2")
        with db.engine.begin() as conn:
            org = _insert(conn, "organisation", name="B", slug="b", is_buyer=True, is_vendor=False,
                          created_at=now)

            def vendor(name: str) -> int:
                return _insert(conn, "vendor", buyer_org_id=org, legal_name=name, services="",
                               data_categories="[]", criticality="medium", created_at=now,
                               updated_at=now)

            def assessment(vendor_id: int, status: str) -> int:
                return _insert(conn, "assessment", buyer_org_id=org, vendor_id=vendor_id,
                               questionnaire_id="q", questionnaire_version="1",
                               questionnaire_sha256="0" * 64, status=status, message="",
                               created_at=now, completeness=0, progress=0, open_findings=0)

            rounds, withdrawn, only_cancelled = vendor("Rounds"), vendor("Withdrawn"), vendor("Gone")
            vendor("Never assessed")
            assessment(rounds, "decided")
            newest = assessment(rounds, "in_progress")
            kept = assessment(withdrawn, "decided")
            assessment(withdrawn, "cancelled")  # a cancelled re-assessment gives the row back
            assessment(only_cancelled, "cancelled")
            last_cancelled = assessment(only_cancelled, "cancelled")
        upgrade()
        with db.engine.connect() as conn:
            flagged = set(conn.execute(text("SELECT id FROM assessment WHERE is_latest")).scalars())
        db.engine.dispose()
    assert flagged == {newest, kept, last_cancelled}
