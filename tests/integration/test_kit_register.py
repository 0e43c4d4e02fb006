"""The processor register (Art. 30(2) GDPR) end to end: controllers from vendorcheck and by hand,
dated versions on every change, exports in CSV, XLSX and signed PDF, in English and French."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.factories.dpa import OVH, complete_answers, publish_dpa, set_draft_answers
from tests.factories.dpa_relations import accept_version
from tests.unit.dpa.test_register import INDIA_SCC, US_DPF
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation, User
from vendorcheck.models.kit import KitController, RegisterVersion
from vendorcheck.services import dpa_acceptance

SUBS = [OVH, US_DPF, INDIA_SCC]
CONTROLLER = {"name": "Hand Added SAS", "address": "3 rue de la Paix, Paris",
              "contact_name": "Marie Martin, DPO", "contact_email": "dpo@hand.example",
              "dpo": "Marie Martin", "eu_representative": "", "categories": ""}


@pytest.fixture(autouse=True)
def _instance(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()


@pytest.fixture
def kit(app, world):
    """Vendor A published a DPA with a US sub-processor under the DPF and an Indian one under
    SCCs; buyer A accepted it and gave its Annex I details."""
    with app.app_context():
        vendor_org = db.session.get(Organisation, world["a"].vendor_org.id)
        buyer = db.session.get(Organisation, world["a"].buyer.id)
        version = publish_dpa(None, vendor_org, subprocessors=SUBS)
        acceptance = accept_version(version, buyer, db.session.get(User, world.user("a.admin").id))
        dpa_acceptance.record_controller(acceptance, {
            "legal_name": "Buyer A Legal SA", "address": "1 rue A, Lyon",
            "contact_name": "Ann Signer", "contact_email": "ann@buyer-a.example",
            "dpo": "Dan DPO"})
        db.session.commit()
    return world


def _versions(app, org_id):
    with app.app_context():
        return [(v.number, [c["name"] for c in v.snapshot["controllers"]]) for v in
                db.session.scalars(select(RegisterVersion).where(
                    RegisterVersion.vendor_org_id == org_id).order_by(RegisterVersion.number))]


def _latest_id(app, org_id):
    with app.app_context():
        return db.session.scalar(select(RegisterVersion.id).where(
            RegisterVersion.vendor_org_id == org_id).order_by(RegisterVersion.number.desc()))


def test_register_page_shows_each_part_of_article_30_2(app, client, kit, login_as):
    login_as(kit.user("a.vendor"))
    page = client.get("/vendor/kit").get_data(as_text=True)
    assert "Record of processing activities carried out as processor (Art. 30(2) GDPR)" in page
    assert "Buyer A Legal SA" in page and "1 rue A, Lyon" in page and "Dan DPO" in page
    assert "accepted your DPA" in page
    assert "<td>United States</td><td>Mailer Inc. (Transactional e-mail)</td>" in page
    assert ("EU-US Data Privacy Framework (recipient self-certified) (adequacy decision on the "
            "EU-US Data Privacy Framework, Implementing Decision (EU) 2023/1795, Art. 45 GDPR)"
            ) in page
    assert "<td>India</td><td>Support India Pvt Ltd (Second-level support desk)</td>" in page
    assert "standard data protection clauses, Art. 46(2)(c) GDPR" in page
    assert "4. General description of the security measures" in page
    assert _versions(app, kit["a"].vendor_org.id) == [(1, ["Buyer A Legal SA"])]
    client.get("/vendor/kit")  # nothing changed: no new version
    assert len(_versions(app, kit["a"].vendor_org.id)) == 1


def test_register_in_french(app, client, kit, login_as):
    login_as(kit.user("a.vendor"))
    client.get("/vendor/kit")
    version_id = _latest_id(app, kit["a"].vendor_org.id)
    page = client.get(f"/vendor/kit/register/versions/{version_id}?locale=fr").get_data(as_text=True)
    assert "Registre des catégories d'activités de traitement" in page
    assert "<td>États-Unis</td>" in page and "<td>Inde</td>" in page
    assert "Data Privacy Framework UE-États-Unis" in page
    assert "clauses types de protection des données, art. 46, § 2, c), RGPD" in page


def test_every_change_makes_a_dated_version_and_a_removed_controller_keeps_its_history(
        app, client, kit, login_as):
    org_id = kit["a"].vendor_org.id
    login_as(kit.user("a.vendor"))
    client.get("/vendor/kit")
    response = client.post("/vendor/kit/controllers/new", data=CONTROLLER)
    assert response.status_code == 303
    assert _versions(app, org_id)[-1] == (2, ["Buyer A Legal SA", "Hand Added SAS"])
    with app.app_context():  # a changed answer (a new sub-processor) updates the register
        set_draft_answers(db.session.get(Organisation, org_id), complete_answers([OVH, US_DPF]))
    page = client.get("/vendor/kit").get_data(as_text=True)
    assert "Support India Pvt Ltd" not in page
    assert len(_versions(app, org_id)) == 3
    with app.app_context():
        row_id = db.session.scalar(select(KitController.id).where(
            KitController.name == "Hand Added SAS"))
    confirm = client.get(f"/vendor/kit/controllers/{row_id}/remove").get_data(as_text=True)
    assert "Remove Hand Added SAS from your processor register?" in confirm
    assert client.post(f"/vendor/kit/controllers/{row_id}/remove").status_code == 303
    versions = _versions(app, org_id)
    assert versions[-1] == (4, ["Buyer A Legal SA"])
    assert "Hand Added SAS" in versions[1][1]  # the earlier version still lists it
    page = client.get("/vendor/kit").get_data(as_text=True)
    assert "Hand Added SAS, removed on" in page
    history = client.get("/vendor/kit/register/history").get_data(as_text=True)
    assert history.count("/vendor/kit/register/versions/") == 4
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("kit.%"))))
    assert {"kit.controller_added", "kit.controller_removed", "kit.register_versioned"} <= actions


def test_a_buyer_found_in_vendorcheck_can_be_completed_or_removed(app, client, kit, login_as):
    buyer_id = kit["a"].buyer.id
    login_as(kit.user("a.vendor"))
    client.get("/vendor/kit")
    form = client.get(f"/vendor/kit/buyers/{buyer_id}/edit").get_data(as_text=True)
    assert 'value="Buyer A Legal SA"' in form
    done = client.post(f"/vendor/kit/buyers/{buyer_id}/edit",
                       data={**CONTROLLER, "name": "Buyer A Legal SA", "eu_representative": "Rep"})
    assert done.status_code == 303
    page = client.get("/vendor/kit").get_data(as_text=True)
    assert "<td>Rep</td>" in page and "Buyer A Legal SA" in page
    assert client.get(f"/vendor/kit/buyers/{kit['b'].buyer.id}/edit").status_code == 404


def test_bad_controller_input_is_refused_beside_the_form(app, client, kit, login_as):
    login_as(kit.user("a.vendor"))
    response = client.post("/vendor/kit/controllers/new", data={**CONTROLLER, "name": " "})
    assert response.status_code == 422
    assert "Give the controller's name." in response.get_data(as_text=True)
    too_long = client.post("/vendor/kit/controllers/new", data={**CONTROLLER, "dpo": "x" * 301})
    assert too_long.status_code == 422


def test_exports_csv_xlsx_and_signed_pdf(app, client, kit, login_as):
    login_as(kit.user("a.vendor"))
    client.post("/vendor/kit/controllers/new", data=CONTROLLER)
    version_id = _latest_id(app, kit["a"].vendor_org.id)
    body = client.get(f"/vendor/kit/register/versions/{version_id}.csv?locale=en")
    assert body.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(body.get_data().decode("utf-8-sig"))))
    assert [r["Controller (client): name"] for r in rows] == ["Buyer A Legal SA", "Hand Added SAS"]
    transfers = rows[0]["Transfers to third countries: country, recipient and transfer tool"]
    assert "United States: Mailer Inc." in transfers and "India: Support India Pvt Ltd" in transfers
    xlsx = client.get(f"/vendor/kit/register/versions/{version_id}.xlsx?locale=fr")
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    headers = [cell.value for cell in sheet[1]]
    assert "Responsable du traitement (client) : nom" in headers
    assert sheet.max_row == 3
    pdf = client.get(f"/vendor/kit/register/versions/{version_id}.pdf?locale=en")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert b"/RegisterSignature" in pdf.get_data() or b"RegisterSignature" in pdf.get_data()


def test_another_organisations_register_is_a_404(app, client, kit, login_as):
    login_as(kit.user("a.vendor"))
    client.get("/vendor/kit")
    version_id = _latest_id(app, kit["a"].vendor_org.id)
    client.post("/vendor/kit/controllers/new", data=CONTROLLER)
    with app.app_context():
        row_id = db.session.scalar(select(KitController.id))
    login_as(kit.user("b.vendor"))
    for suffix in ("", ".csv", ".xlsx", ".pdf"):
        assert client.get(f"/vendor/kit/register/versions/{version_id}{suffix}").status_code == 404
    assert client.get(f"/vendor/kit/controllers/{row_id}/edit").status_code == 404
    assert client.post(f"/vendor/kit/controllers/{row_id}/remove").status_code == 404
    login_as(kit.user("a.admin"))  # a buyer has no register
    assert client.get("/vendor/kit").status_code == 403


def test_without_dpa_answers_the_page_says_where_to_start(app, client, world, login_as):
    login_as(world.user("b.vendor"))
    page = client.get("/vendor/kit").get_data(as_text=True)
    assert "Start your DPA questionnaire first" in page
