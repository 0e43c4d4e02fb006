"""DPA publishing: a preview of the exact public page before the irreversible step, and the legal
name prefilled from the organisation and confirmed in the publish form."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.factories.dpa import OVH, complete_answers, publish_dpa, set_draft_answers
from vendorcheck.extensions import db
from vendorcheck.models import AuditEntry, Organisation
from vendorcheck.models.dpa import DpaVersion
from vendorcheck.services import dpa as svc


def _org(world):
    return db.session.get(Organisation, world["a"].vendor_org.id)


def _versions() -> int:
    return db.session.scalar(select(func.count(DpaVersion.id)))


def _input_value(body: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', body)
    assert tag, name
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def test_a_new_draft_starts_with_the_organisations_name_as_legal_name(app, client, world, login_as):
    login_as(world.user("a.vendor"))
    assert client.post("/vendor/dpa/draft").status_code == 302
    with app.app_context():
        org = _org(world)
        draft = svc.draft_of(svc.profile_of(org))
        assert svc.draft_answers(draft)[svc.LEGAL_NAME_ITEM] == org.name


def test_publish_form_prefills_the_legal_name(app, client, world, login_as):
    with app.app_context():
        answers = complete_answers([OVH])
        answers.pop(svc.LEGAL_NAME_ITEM, None)
        set_draft_answers(_org(world), {**answers, svc.LEGAL_NAME_ITEM: "Vendor A Legal SAS"})
    login_as(world.user("a.vendor"))
    for lang in ("en", "fr"):
        page = client.get(f"/vendor/dpa?lang={lang}").get_data(as_text=True)
        assert _input_value(page, "legal_name") == "Vendor A Legal SAS"
        assert "/vendor/dpa/preview/public" in page


def test_the_legal_name_confirmed_in_the_form_is_published_and_audited(app, client, world, login_as):
    with app.app_context():
        set_draft_answers(_org(world), complete_answers([OVH]))
    login_as(world.user("a.vendor"))
    response = client.post("/vendor/dpa/publish", data={"confirm": "y",
                                                        "legal_name": "  Vendor A   SAS "})
    assert response.status_code == 303
    with app.app_context():
        version = db.session.scalar(select(DpaVersion))
        assert version.content["parties"]["processor_name"] == "Vendor A SAS"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "dpa.published"))
        assert entry.details["legal_name"] == "Vendor A SAS"


def test_a_too_long_legal_name_is_refused_and_nothing_is_published(app, client, world, login_as):
    with app.app_context():
        set_draft_answers(_org(world), complete_answers([OVH]))
    login_as(world.user("a.vendor"))
    response = client.post("/vendor/dpa/publish", data={"confirm": "y", "legal_name": "x" * 201},
                           follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        assert _versions() == 0


def test_public_preview_renders_the_public_page_of_the_draft_marked_as_preview(app, client, world,
                                                                                login_as):
    with app.app_context():
        set_draft_answers(_org(world), complete_answers([OVH]))
    login_as(world.user("a.vendor"))
    for lang, banner in (("en", "Preview — not published"), ("fr", "Aperçu — non publié")):
        for kind in ("scc_reference", "own_words"):
            response = client.get(f"/vendor/dpa/preview/public?kind={kind}&lang={lang}")
            assert response.status_code == 200
            body = response.get_data(as_text=True)
            assert banner in body and "OVH" in body
            assert "/vendor/dpa/publish" not in body  # the preview cannot publish
    with app.app_context():
        assert _versions() == 0  # previewing publishes nothing


def test_public_preview_matches_the_page_published_afterwards(app, client, world, login_as):
    with app.app_context():
        set_draft_answers(_org(world), complete_answers([OVH]))
    login_as(world.user("a.vendor"))
    preview = client.get("/vendor/dpa/preview/public").get_data(as_text=True)
    assert client.post("/vendor/dpa/publish", data={"confirm": "y"}).status_code == 303
    with app.app_context():
        version = db.session.scalar(select(DpaVersion))
        slug, digest = version.profile.slug, version.sha256
    public = client.get(f"/dpa/{slug}").get_data(as_text=True)
    assert digest in preview and digest in public  # same content, same digest

    def heading(body: str) -> str:
        return re.search(r"<h1>(.*?)</h1>", body, re.S).group(1)

    assert heading(preview) == heading(public)  # same title, same version number


def test_public_preview_without_a_draft_goes_back_and_bad_kind_is_400(app, client, world, login_as):
    login_as(world.user("a.vendor"))
    assert client.get("/vendor/dpa/preview/public").status_code == 302
    with app.app_context():
        publish_dpa(world, world["a"].vendor_org)
        set_draft_answers(_org(world), complete_answers([OVH]))
    assert client.get("/vendor/dpa/preview/public?kind=nonsense").status_code == 400


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_preview_is_the_drafts_pdf_marked_and_changes_nothing(app, client, world, login_as,
                                                                  fingerprint):
    from vendorcheck.models.dpa import DpaPdf

    with app.app_context():
        set_draft_answers(_org(world), complete_answers([OVH]))
    login_as(world.user("a.vendor"))
    client.get("/vendor/dpa")  # the draft is moved to the latest questionnaire version first, if ever
    before = fingerprint()
    for locale, mark in (("en", "Preview — not published"), ("fr", "Aperçu — non publié")):
        for kind in ("scc_reference", "own_words"):
            response = client.get(f"/vendor/dpa/preview.pdf?kind={kind}&locale={locale}")
            assert response.status_code == 200
            assert response.mimetype == "application/pdf"
            assert response.headers["Cache-Control"] == "no-store"
            assert "preview" in response.headers["Content-Disposition"]
            text = _pdf_text(response.data)
            assert mark in text and "OVH" in text
            assert ("Not published yet" if locale == "en" else "Pas encore publiée") in text
    assert fingerprint() == before, "a preview stores nothing"
    with app.app_context():
        assert _versions() == 0 and db.session.scalar(select(func.count(DpaPdf.id))) == 0


def test_pdf_preview_is_linked_before_publishing_and_refuses_bad_input(app, client, world, login_as):
    login_as(world.user("a.vendor"))
    assert client.get("/vendor/dpa/preview.pdf").status_code == 302  # no draft yet: back to the DPA page
    with app.app_context():
        set_draft_answers(_org(world), complete_answers([OVH]))
    page = client.get("/vendor/dpa?lang=en").get_data(as_text=True)
    assert "/vendor/dpa/preview.pdf?kind=scc_reference" in page
    assert "/vendor/dpa/preview.pdf?kind=own_words" in page
    preview = client.get("/vendor/dpa/preview/public?lang=en").get_data(as_text=True)
    assert "/vendor/dpa/preview.pdf?kind=scc_reference&amp;locale=fr" in preview
    assert "Not published yet (preview)" in preview  # no publication date is made up
    assert client.get("/vendor/dpa/preview.pdf?kind=nonsense").status_code == 400
    assert client.get("/vendor/dpa/preview.pdf?locale=de").status_code == 400


def test_pdf_preview_needs_a_login_and_shows_only_ones_own_draft(app, client, world, login_as):
    with app.app_context():
        set_draft_answers(_org(world), complete_answers([OVH]))
    response = client.get("/vendor/dpa/preview.pdf")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    login_as(world.user("b.vendor"))  # the other tenant has no draft: it never sees A's
    response = client.get("/vendor/dpa/preview.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith("/vendor/dpa")
    login_as(world.user("a.assessor"))  # a buyer-side role of A
    assert client.get("/vendor/dpa/preview.pdf").status_code in (403, 404)
