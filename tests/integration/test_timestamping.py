"""With VENDORCHECK_TIMESTAMP_URL set, every signed document carries a trusted timestamp (PAdES B-T)."""

from __future__ import annotations

import pytest

from tests.factories.accounts import make_org, make_user, make_vendor
from tests.factories.dpa import publish_dpa
from tests.factories.reports import make_reviewed_assessment
from tests.support.tsa import TSA_TIME, serve_tsa
from vendorcheck.extensions import db
from vendorcheck.models import Role
from vendorcheck.pdf import verify_pdf
from vendorcheck.services import dpa, dpa_acceptance, packs, reports, signing

pytestmark = pytest.mark.slow


@pytest.fixture
def tsa(app, tmp_path, monkeypatch):
    """A local timestamping authority configured for the app, with a fresh instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()
    with serve_tsa() as (url, cert, hits):
        monkeypatch.setitem(app.config, "TIMESTAMP_URL", url)
        yield cert, hits


def _timestamped(pdf: bytes, tsa_cert) -> None:
    result = verify_pdf(pdf, trust_roots=[signing.instance_certificate(), tsa_cert])
    assert result.ok, result.problems
    assert result.signed_at == TSA_TIME, "the time comes from the authority, not the local clock"


def test_reports_packs_dpas_and_certificates_are_timestamped(app, world, tsa, tmp_path):
    tsa_cert, hits = tsa
    with app.app_context():
        buyer = make_org("Acme Buyer SA", slug="acme-tsa")
        user = make_user("reviewer@acme-tsa.example", org=buyer, role=Role.ADMIN, name="Alice")
        assessment = make_reviewed_assessment(buyer, make_vendor(buyer, "Cloudy Inc.", owner=user), by=user)
        _timestamped(reports.render_assessment_report(assessment, locale="en", by=user), tsa_cert)

        out = tmp_path / "pack.pdf"
        packs.build_pack([assessment], locale="en", output=out, by=user)
        _timestamped(out.read_bytes(), tsa_cert)

        version = publish_dpa(world, world["a"].vendor_org)
        _timestamped(dpa.version_pdf(version, "en"), tsa_cert)

        legal = db.session.merge(world.user("a.legal"))
        acceptance = dpa_acceptance.accept(version, db.session.merge(world["a"].buyer), by=legal,
                                           signer_name="Lea Legal", signer_role="General counsel",
                                           authorised=True, seen_sha256=version.sha256)
        _timestamped(dpa_acceptance.certificate_bytes(acceptance, by=legal), tsa_cert)
    assert hits, "the authority was asked"


def test_without_a_timestamp_url_nothing_is_asked(app, tsa):
    _cert, hits = tsa
    app.config["TIMESTAMP_URL"] = None
    with app.app_context():
        buyer = make_org("Plain Buyer", slug="plain")
        user = make_user("plain@buyer.example", org=buyer, role=Role.ADMIN)
        assessment = make_reviewed_assessment(buyer, make_vendor(buyer, "Plain Vendor", owner=user), by=user)
        pdf = reports.render_assessment_report(assessment, locale="en", by=user)
        assert verify_pdf(pdf, trust_roots=[signing.instance_certificate()]).ok
    assert hits == []
