"""Click-to-accept a published DPA: audit entry with the hash, signed certificate, buyer list."""

from __future__ import annotations

import hashlib
import io

import pytest
from asn1crypto.x509 import Certificate
from babel.dates import format_date
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import select

from tests.factories.dpa import MAILER, OVH, publish_dpa
from tests.factories.dpa_relations import accept_version, object_to
from tests.support.signing import make_p12
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, User
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.models.dpa_changes import DpaChangeProposal
from vendorcheck.models.dpa_relations import DpaAcceptance
from vendorcheck.services import dpa_acceptance, dpa_changes, signing

FORM = {"signer_name": "Lea Legal", "signer_role": "General counsel", "authorised": "y",
        "controller_name": "Buyer A SA", "controller_address": "1 place du Marché, 69001 Lyon",
        "contact_name": "Lea Legal, General counsel", "contact_email": "legal@buyer-a.example"}


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    """Keep signing keys and certificates of each test in its own instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


def _publish(app, world, subprocessors, key="a"):
    """Publish a version for a tenant's vendor; return (slug, number, sha256, id)."""
    with app.test_request_context():
        org = db.session.get(Organisation, world[key].vendor_org.id)
        version = publish_dpa(None, org, subprocessors=subprocessors)
        return version.profile.slug, version.number, version.sha256, version.id


def _accept(client, slug, number, sha, **changes):
    return client.post(f"/buyer/dpa/{slug}/v{number}/accept",
                       data={**FORM, "version_sha256": sha, **changes})


def _validate(pdf: bytes, cert) -> None:
    """Assert the PDF carries one signature, trusted, covering the whole file."""
    vc = ValidationContext(trust_roots=[Certificate.load(cert.public_bytes(Encoding.DER))])
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0], vc)
    assert status.bottom_line and status.coverage.name == "ENTIRE_FILE"


def test_accepting_records_the_hash_and_gives_a_signed_certificate(app, client, world, login_as,
                                                                   runner, tmp_path):
    slug, number, sha, version_id = _publish(app, world, [OVH])
    login_as(world.user("a.legal"))
    page = client.get(f"/buyer/dpa/{slug}/v{number}/accept")
    assert page.status_code == 200
    assert sha in page.get_data(as_text=True)
    assert "Accept on behalf of Buyer A" in page.get_data(as_text=True)

    response = _accept(client, slug, number, sha)
    assert response.status_code == 302 and "/buyer/dpa" in response.headers["Location"]
    with app.app_context():
        acceptance = db.session.scalars(select(DpaAcceptance)).one()
        assert (acceptance.dpa_version_id, acceptance.buyer_org_id) == (version_id,
                                                                        world["a"].buyer.id)
        assert acceptance.user_id == world.user("a.legal").id
        assert (acceptance.signer_name, acceptance.signer_role) == ("Lea Legal", "General counsel")
        assert acceptance.version_sha256 == sha
        entry = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "dpa.accepted")).one()
        assert entry.details["version_sha256"] == sha
        assert entry.details["certificate_sha256"] == acceptance.certificate_sha256
        assert entry.organisation_id == world["a"].buyer.id
        acceptance_id, digest = acceptance.id, acceptance.certificate_sha256

    first = client.get(f"/buyer/dpa/acceptances/{acceptance_id}/certificate.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    pdf = first.get_data()
    assert hashlib.sha256(pdf).hexdigest() == digest
    second = client.get(f"/buyer/dpa/acceptances/{acceptance_id}/certificate.pdf").get_data()
    assert second == pdf, "the certificate is stored once and served as the same bytes"
    with app.app_context():
        _validate(pdf, signing.instance_certificate())
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert sha in text.replace("\n", "") and "Lea Legal" in text and "General counsel" in text
    assert f"vendorcheck-dpa-acceptance:{acceptance_id}" in str(
        PdfReader(io.BytesIO(pdf)).metadata.get("/Keywords"))

    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    result = runner.invoke(args=["report", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output
    assert f"Record:    the certificate of acceptance #{acceptance_id} of" in result.output


def test_the_certificate_writes_its_times_as_pages_do(app, client, world, login_as):
    slug, number, sha, _id = _publish(app, world, [OVH])
    login_as(world.user("a.legal"))
    assert _accept(client, slug, number, sha).status_code == 302
    with app.test_request_context():
        acceptance = db.session.scalars(select(DpaAcceptance)).one()
        accepted = acceptance.accepted_at
        for locale, joined in (("en", "{date}, {time} UTC"), ("fr", "{date} à {time} UTC")):
            pdf = dpa_acceptance.build_certificate(acceptance, locale)
            text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
                            .split())
            stamp = joined.format(date=format_date(accepted.date(), "medium", locale=locale),
                                  time=accepted.strftime("%H:%M"))  # "5 déc. 2026 à 07:26 UTC"
            assert stamp in text, (stamp, text)
            assert accepted.strftime("%Y-%m-%d") not in text and accepted.strftime("%H:%M:%S") not in text


def test_the_buyers_own_certificate_signs_when_uploaded(app, client, world, login_as, tmp_path):
    slug, number, sha, _id = _publish(app, world, [OVH])
    p12, cert = make_p12(tmp_path, "Buyer A legal signing")
    with app.test_request_context():
        signing.upload_certificate(db.session.get(Organisation, world["a"].buyer.id), p12,
                                   "pw-123", by=db.session.get(User, world.user("a.admin").id))
    login_as(world.user("a.admin"))
    assert _accept(client, slug, number, sha).status_code == 302
    with app.app_context():
        acceptance_id = db.session.scalars(select(DpaAcceptance.id)).one()
    pdf = client.get(f"/buyer/dpa/acceptances/{acceptance_id}/certificate.pdf").get_data()
    _validate(pdf, cert)


def test_accepting_twice_is_refused_and_shows_the_first(app, client, world, login_as):
    slug, number, sha, _id = _publish(app, world, [OVH])
    login_as(world.user("a.admin"))
    assert _accept(client, slug, number, sha).status_code == 302
    login_as(world.user("a.legal"))
    again = _accept(client, slug, number, sha, signer_name="Someone Else")
    assert again.status_code == 409
    assert "Download the acceptance certificate" in again.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(DpaAcceptance)).all()) == 1


@pytest.mark.parametrize(("changes", "status"), [
    ({"authorised": ""}, 422),
    ({"signer_name": ""}, 422),
    ({"signer_role": "x" * 201}, 422),
    ({"version_sha256": "0" * 64}, 409),
    ({"version_sha256": "short"}, 422),
])
def test_bad_acceptances_store_nothing(app, client, world, login_as, changes, status):
    slug, number, sha, _id = _publish(app, world, [OVH])
    login_as(world.user("a.admin"))
    response = _accept(client, slug, number, sha, **changes)
    assert response.status_code == status
    with app.app_context():
        assert db.session.scalars(select(DpaAcceptance)).all() == []
        assert db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "dpa.accepted")).all() == []


def test_unknown_slug_or_version_is_404(app, client, world, login_as):
    slug, _n, sha, _id = _publish(app, world, [OVH])
    login_as(world.user("a.admin"))
    assert client.get("/buyer/dpa/nobody/v1/accept").status_code == 404
    assert client.get(f"/buyer/dpa/{slug}/v2/accept").status_code == 404
    assert _accept(client, slug, 7, sha).status_code == 404
    assert client.get(f"/buyer/dpa/{slug}/v99999999999999999999/accept").status_code == 404


def test_assessors_may_read_but_not_accept(app, client, world, login_as):
    slug, number, sha, _id = _publish(app, world, [OVH])
    login_as(world.user("a.assessor"))
    assert _accept(client, slug, number, sha).status_code == 403
    assert client.get("/buyer/dpa").status_code == 200


def test_another_tenants_certificate_is_404(app, client, world, login_as):
    _publish(app, world, [OVH])
    with app.app_context():
        version = db.session.scalars(select(DpaVersion)).one()
        acceptance = accept_version(version, db.session.get(Organisation, world["a"].buyer.id),
                                    db.session.get(User, world.user("a.admin").id))
        acceptance_id = acceptance.id
    login_as(world.user("b.admin"))
    assert client.get(f"/buyer/dpa/acceptances/{acceptance_id}/certificate.pdf").status_code == 404
    assert "CANARY-A" not in client.get("/buyer/dpa").get_data(as_text=True)


def test_buyer_list_shows_newer_versions_and_pending_objections(app, client, world, login_as):
    _publish(app, world, [OVH])
    with app.app_context():
        v1 = db.session.scalars(select(DpaVersion)).one()
        admin = db.session.get(User, world.user("a.admin").id)
        acceptance_id = accept_version(v1, db.session.get(Organisation, world["a"].buyer.id),
                                       admin).id
    login_as(world.user("a.assessor"))
    page = client.get("/buyer/dpa").get_data(as_text=True)
    assert "Version 1" in page and "Up to date" in page
    with app.test_request_context():
        publish_dpa(None, db.session.get(Organisation, world["a"].vendor_org.id),
                    subprocessors=[OVH, MAILER], apply_change=False)
        v2 = db.session.scalars(select(DpaVersion).where(DpaVersion.number == 2)).one()
        object_to(v2, db.session.get(DpaAcceptance, acceptance_id),
                  db.session.get(User, world.user("a.admin").id))
        effective_at = db.session.scalars(select(DpaChangeProposal)).one().effective_at
    page = client.get("/buyer/dpa").get_data(as_text=True)
    assert "Newer version available" not in page, "a proposed version is not in force yet"
    assert "Proposed sub-processor changes" in page and "You objected" in page
    assert "1 objection pending" in page
    with app.app_context():
        dpa_changes.apply_due(now=effective_at)
    page = client.get("/buyer/dpa").get_data(as_text=True)
    assert "Newer version available: 2" in page, "the objector stays on version 1"
    assert "1 objection pending" in page
    assert "Review and accept" not in page, "assessors are not offered to accept"


def test_public_pages_offer_accepting_and_subscribing(app, client, world, login_as):
    """The public version page offers acceptance to signers only; the sub-processor page a form."""
    _publish(app, world, [OVH])
    with app.app_context():
        slug = db.session.scalars(select(DpaVersion)).one().profile.slug
    anonymous = client.get(f"/dpa/{slug}/v1").get_data(as_text=True)
    assert "Accept on behalf of" not in anonymous
    listing = client.get(f"/dpa/{slug}/subprocessors").get_data(as_text=True)
    assert f'action="/dpa/{slug}/subscribe"' in listing
    for actor, shown in (("a.legal", True), ("a.assessor", False), ("a.vendor", False)):
        login_as(world.user(actor))
        html = client.get(f"/dpa/{slug}/v1").get_data(as_text=True)
        assert ("Accept on behalf of Buyer A" in html) is shown, actor
        assert (f"/buyer/dpa/{slug}/v1/accept" in html) is shown, actor
