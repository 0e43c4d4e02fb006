"""Pages name countries in the reader's language and write the DPA's publication time like other pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from tests.factories.api import bearer, token_for
from tests.factories.assessments import make_scored_assessment
from tests.factories.dpa import MAILER, OVH, publish_dpa
from tests.factories.questionnaires import GOOD, UNACCEPTABLE
from vendorcheck.extensions import db
from vendorcheck.models import Organisation, Vendor
from vendorcheck.models.assessments import AssessmentStatus, Clarification, ClarificationState
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.services import dpa as dpa_svc

PUBLISHED = datetime(2026, 12, 5, 7, 26, 59, tzinfo=UTC)


def _vendor_in(app, world, country: str) -> int:
    """Give tenant A's vendor record a country; return its id."""
    with app.app_context():
        vendor = db.session.get(Vendor, world["a"].vendor.id)
        vendor.country = country
        db.session.commit()
        return vendor.id


def test_vendor_pages_name_the_country_in_the_readers_language(app, client, world, login_as):
    vendor_id = _vendor_in(app, world, "DE")
    login_as(world.user("a.admin"))
    for lang, name in (("en", "Germany"), ("fr", "Allemagne")):
        detail = client.get(f"/buyer/vendors/{vendor_id}?lang={lang}").get_data(as_text=True)
        listing = client.get(f"/buyer/vendors?lang={lang}").get_data(as_text=True)
        assert f"<dd>{name}</dd>" in detail and "<dd>DE</dd>" not in detail
        assert f"<td>{name}</td>" in listing and "<td>DE</td>" not in listing


def test_the_api_keeps_the_country_code(app, client, world):
    vendor_id = _vendor_in(app, world, "DE")
    with app.app_context():
        secret = token_for(world, "a.admin", "read")
    body = client.get(f"/api/v1/vendors/{vendor_id}", headers=bearer(secret)).get_json()
    assert body["country"] == "DE"


def test_an_unknown_or_missing_country_code_is_shown_as_stored(app, client, world, login_as):
    vendor_id = _vendor_in(app, world, "XY")
    login_as(world.user("a.admin"))
    assert "<dd>XY</dd>" in client.get(f"/buyer/vendors/{vendor_id}").get_data(as_text=True)
    _vendor_in(app, world, None)
    assert "<dd>—</dd>" in client.get(f"/buyer/vendors/{vendor_id}").get_data(as_text=True)


def _published(app, world) -> tuple[str, int]:
    """Publish tenant A's DPA at a known moment; return its slug and version id."""
    with app.test_request_context():
        version = publish_dpa(None, db.session.get(Organisation, world["a"].vendor_org.id),
                              subprocessors=[OVH, MAILER])
        version.published_at = PUBLISHED
        db.session.commit()
        return version.profile.slug, version.id


def test_the_dpa_writes_its_publication_time_like_other_pages(app, client, world):
    slug, _version_id = _published(app, world)
    english = client.get(f"/dpa/{slug}/v1?lang=en").get_data(as_text=True)
    french = client.get(f"/dpa/{slug}/v1?lang=fr").get_data(as_text=True)
    assert "<dd>Dec 5, 2026, 07:26 UTC</dd>" in english and "AM UTC" not in english
    assert "<dd>5 déc. 2026 à 07:26 UTC</dd>" in french and "07:26:59" not in french


def test_a_new_pdf_is_rendered_with_the_same_time_and_a_stored_one_is_kept(app, client, world):
    slug, version_id = _published(app, world)
    with app.test_request_context():
        version = db.session.get(DpaVersion, version_id)
        for locale, stamp in (("en", "Dec 5, 2026, 07:26 UTC"), ("fr", "5 déc. 2026 à 07:26 UTC")):
            html = dpa_svc.render_document_html(version, locale, standalone=True)
            assert f"<dd>{stamp}</dd>" in html and "07:26:59" not in html
    first = client.get(f"/dpa/{slug}/v1.pdf?locale=fr")
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    assert client.get(f"/dpa/{slug}/v1.pdf?locale=fr").data == first.data  # stored bytes, kept


def test_subprocessor_changes_name_countries_and_transfer_tools(app, client, world, login_as):
    with app.test_request_context():
        org = db.session.get(Organisation, world["a"].vendor_org.id)
        publish_dpa(None, org, subprocessors=[OVH])
        proposed = publish_dpa(None, org, subprocessors=[OVH, MAILER], apply_change=False)
        slug = proposed.profile.slug
    for lang, country, tool in (
            ("en", "United States", "EU standard contractual clauses (2021/914)"),
            ("fr", "États-Unis", None)):
        page = client.get(f"/dpa/{slug}/subprocessors?lang={lang}").get_data(as_text=True)
        assert f"Mailer Inc.</strong> ({country})" in page
        assert "(US)" not in page and "scc_2021" not in page
        if tool:
            assert tool in page


def test_the_review_page_writes_dates_scores_and_clarifications_in_the_readers_language(
        app, client, world, login_as):
    with app.app_context():
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=GOOD,
                                   due_date=date(2026, 12, 26), status=AssessmentStatus.IN_REVIEW)
        a.score = 55.25  # the header shows one decimal
        db.session.add(Clarification(assessment=a, item_id="vendor_legal_name",
                                     question="Which entity signs the DPA?", answer="CloudCRM SAS",
                                     asked_by_id=world.user("a.admin").id,
                                     state=ClarificationState.ANSWERED))
        db.session.commit()
        assessment_id = a.id
    login_as(world.user("a.admin"))
    english = client.get(f"/buyer/assessments/{assessment_id}?lang=en").get_data(as_text=True)
    french = client.get(f"/buyer/assessments/{assessment_id}?lang=fr").get_data(as_text=True)
    assert "<dd>Dec 26, 2026</dd>" in english and "<dd>26 déc. 2026</dd>" in french
    assert "2026-12-26" not in english and "2026-12-26" not in french
    assert "Question: Which entity signs the DPA?" in english
    assert "Question : Which entity signs the DPA?" in french
    assert "Réponse : CloudCRM SAS" in french
    scores = french.split("Scores par catégorie", 1)[1].split("</table>", 1)[0]
    assert re.search(r"<td>\d+,\d</td>", scores) and not re.search(r"<td>\d+\.\d</td>", scores)
    dashboard = client.get("/buyer/assessments?lang=fr").get_data(as_text=True)
    assert "26 déc. 2026" in dashboard and "2026-12-26" not in dashboard


def test_a_label_and_its_colon_are_one_message_for_french_punctuation(app, client, world, login_as):
    with app.app_context():
        assessment_id = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers={},
                                               status=AssessmentStatus.SENT).id
    login_as(world.user("a.admin"))
    english = client.get(f"/buyer/assessments/{assessment_id}?lang=en").get_data(as_text=True)
    french = client.get(f"/buyer/assessments/{assessment_id}?lang=fr").get_data(as_text=True)
    assert "<strong>Not assessed yet:</strong>" in english
    assert "<strong>Pas encore évalué :</strong>" in french


def test_finding_triggers_on_the_review_page_have_french_punctuation(app, client, world, login_as):
    with app.app_context():
        assessment_id = make_scored_assessment(world["a"].buyer, world["a"].vendor,
                                               answers=UNACCEPTABLE).id
    login_as(world.user("a.admin"))
    english = client.get(f"/buyer/assessments/{assessment_id}?lang=en").get_data(as_text=True)
    french = client.get(f"/buyer/assessments/{assessment_id}?lang=fr").get_data(as_text=True)
    assert '<p class="small finding-trigger">Triggered by: United States (' in english
    assert '<p class="small finding-trigger">Déclenché par : États-Unis (' in french
    assert "? : Non" in french and "?: Non" not in french and "&amp;" not in french.split(
        "finding-trigger", 1)[1].split("</p>", 1)[0]


def test_the_vendor_sees_due_dates_in_words_in_its_language(app, client, world, login_as):
    with app.app_context():
        a = make_scored_assessment(world["a"].buyer, world["a"].vendor, answers=GOOD,
                                   due_date=date(2026, 12, 26), status=AssessmentStatus.IN_PROGRESS)
        a.next_review_date = date(2027, 6, 30)
        db.session.commit()
        assessment_id = a.id
    login_as(world.user("a.vendor"))
    for lang, due in (("en", "December 26, 2026"), ("fr", "26 décembre 2026")):
        listing = client.get(f"/vendor/assessments?lang={lang}").get_data(as_text=True)
        page = client.get(f"/vendor/assessments/{assessment_id}?lang={lang}").get_data(as_text=True)
        assert due in listing and due in page
        assert "2026-12-26" not in listing + page and "2027-06-30" not in page


def test_an_accepted_copy_writes_its_acceptance_time_in_words_and_in_utc(app, world):
    from vendorcheck.services.dpa_acceptance import annex_i_controller

    acceptance = type("Acceptance", (), {"id": 0, "accepted_at": PUBLISHED, "signer_name": "Léa Martin",
                                         "signer_role": "DPO", "buyer_org": world["a"].buyer})()
    with app.app_context():
        assert annex_i_controller(acceptance, "en")["accepted_at"] == "Dec 5, 2026, 07:26 UTC"
        assert annex_i_controller(acceptance, "fr")["accepted_at"].startswith("5 déc. 2026")
