"""schemathesis drives every documented API operation with generated input, with a token of each scope:
no server error, and every response conforms to the OpenAPI document (status, headers, body)."""

from __future__ import annotations

import pytest
import schemathesis
from fakeredis import FakeRedis
from hypothesis import HealthCheck, given, settings
from rq import Queue
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories.api import bearer, token_for
from tests.factories.assessments import make_assessment
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Vendor

MAX_EXAMPLES = 5  # per operation and scope: bounded, a few seconds each
# Input the schema allows may still be refused: a cursor is opaque and signed (a made-up one answers 400), a
# business rule refuses (422: an unknown questionnaire, a finished assessment). Every other check runs.
EXCLUDED = [positive_data_acceptance]


@pytest.fixture
def schema(app):
    """The API's OpenAPI document, loaded from the app itself (WSGI, no server)."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.mark.parametrize(("actor", "scope"), [("a.legal", "read"), ("a.assessor", "write"),
                                               ("a.admin", "admin"), ("a.vendor", "write")])
def test_every_operation_conforms_and_never_fails(app, world, schema, actor, scope, monkeypatch):
    # A pack it requests waits on a fake queue instead of being built in a thread during the run.
    monkeypatch.setitem(app.extensions, "vendorcheck_pack_queue", Queue(connection=FakeRedis()))
    with app.app_context():
        make_assessment(db.session.get_one(Organisation, world["a"].buyer.id),
                        db.session.get_one(Vendor, world["a"].vendor.id))
        headers = bearer(token_for(world, actor, scope))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)
            assert response.status_code < 500

        run()
