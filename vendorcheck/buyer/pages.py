"""What the review views render: forms with their choices, page contexts, and calls to services."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from vendorcheck.access import active_org
from vendorcheck.buyer import presenters as p
from vendorcheck.buyer.review_forms import (
    ClarificationForm,
    DecisionForm,
    EvidenceReviewForm,
    FindingStateForm,
    ItemOverrideForm,
    ManualFindingForm,
    ReassessForm,
    SendForm,
    SeverityOverrideForm,
)
from vendorcheck.extensions import db
from vendorcheck.forms import options
from vendorcheck.i18n import current_locale
from vendorcheck.models import Contact, Vendor
from vendorcheck.models.assessments import Assessment, AssessmentStatus, Evidence
from vendorcheck.models.remediation import RemediationRequest, RemediationState
from vendorcheck.questionnaire import Questionnaire
from vendorcheck.services import answer_links, expiry, remediation, review
from vendorcheck.services.assessments import STILL_OPEN, questionnaire_of
from vendorcheck.services.assessments.dashboard import DashboardQuery, dashboard_page

S = AssessmentStatus
DEFAULT_DUE_DAYS = 30


def labels() -> dict[str, Any]:
    """Return the words templates use for codes."""
    return {"status_labels": p.status_labels(), "tier_labels": p.tier_labels(),
            "severity_labels": p.severity_labels(), "state_labels": p.finding_state_labels(),
            "decision_labels": p.decision_labels()}


# --- dashboard ----------------------------------------------------------------------------------


@dataclass
class Page:
    """One page of rows, shaped like Flask-SQLAlchemy's pagination for the shared macro."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def dashboard_context(query: DashboardQuery) -> dict[str, Any]:
    """Return the dashboard's template context for one page of the active organisation."""
    found = dashboard_page(active_org(), query)
    return {"page": Page(found.rows, query.page, query.per_page, found.total), "found": found,
            "query": query,
            "has_vendors": found.has_vendors, "filtered": bool(query.status or query.tier
                                                               or query.overdue or query.q
                                                               or query.archived),
            "expiring": expiry.by_window(expiry.expiring_files(active_org().id, date.today())),
            "superseded": expiry.superseded_dpas(active_org().id)}


# --- sending ------------------------------------------------------------------------------------


def _contacts(vendor_id: int | None) -> list[Contact]:
    if vendor_id is None:
        return []
    return list(db.session.scalars(select(Contact).join(Vendor).where(
        Contact.vendor_id == vendor_id, Vendor.buyer_org_id == active_org().id).order_by(Contact.name)))


def _published() -> list[Questionnaire]:
    """Return the published questionnaires a buyer may send (not those vendors fill in for themselves)."""
    return [q for q in current_app.extensions["questionnaires"].published if q.for_buyers]


def send_form() -> SendForm:
    """Build the send form: the organisation's vendors, published questionnaires, contacts."""
    form = SendForm()
    vendors = db.session.execute(select(Vendor.id, Vendor.legal_name).where(
        Vendor.buyer_org_id == active_org().id, Vendor.archived_at.is_(None))
        .order_by(func.lower(Vendor.legal_name))).all()
    form.vendor_id.choices = [(v.id, v.legal_name) for v in vendors]
    if request.method == "GET" and request.args.get("vendor_id", "").isdigit():
        form.vendor_id.data = int(request.args["vendor_id"])
    locale = current_locale()
    form.questionnaire.choices = options(
        (q.id, f"{q.title.get(locale)} — v{q.version}") for q in _published())
    chosen = form.vendor_id.data if isinstance(form.vendor_id.data, int) else None
    form.contacts.choices = [(c.id, f"{c.name} <{c.email}>") for c in _contacts(chosen)]
    if request.method == "GET":
        form.due_date.data = form.due_date.data or date.today() + timedelta(days=DEFAULT_DUE_DAYS)
        form.contacts.data = [c[0] for c in form.contacts.choices]
    return form


def send(form: SendForm) -> Assessment:
    """Call the send service with the validated form."""
    from vendorcheck.services.assessments import send_assessment

    vendor = db.session.get(Vendor, form.vendor_id.data)
    if vendor is None or vendor.buyer_org_id != active_org().id:
        abort(404)
    questionnaire = current_app.extensions["questionnaires"].get(form.questionnaire.data)
    contacts = [c for c in _contacts(vendor.id) if c.id in set(form.contacts.data or [])]
    return send_assessment(active_org(), vendor, questionnaire, due_date=form.due_date.data,
                           contacts=contacts, message=form.message.data or "", by=current_user,
                           by_link=bool(form.by_link.data), sensitive=bool(form.sensitive.data))


def reassess_form(assessment: Assessment) -> ReassessForm:
    """Build the re-assessment form with the vendor's contacts (previous recipients ticked)."""
    form = ReassessForm()
    form.contacts.choices = [(c.id, f"{c.name} <{c.email}>") for c in
                             _contacts(assessment.vendor_id)]
    if request.method == "GET":
        form.contacts.data = [r.contact_id for r in assessment.recipients]
        form.due_date.data = date.today() + timedelta(days=DEFAULT_DUE_DAYS)
    return form


def reassess(assessment: Assessment, form: ReassessForm) -> Assessment:
    """Call the re-assessment service with the validated form."""
    chosen = set(form.contacts.data or [])
    contacts = [c for c in _contacts(assessment.vendor_id) if c.id in chosen]
    return review.start_reassessment(assessment, due_date=form.due_date.data, contacts=contacts,
                                     message=form.message.data or "", by=current_user)


# --- review -------------------------------------------------------------------------------------


def evidence_of(assessment: Assessment, evidence_id: int) -> Evidence:
    """Return an evidence file of this assessment, or 404."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.assessment_id != assessment.id:
        abort(404)
    return evidence


def add_manual_finding(assessment: Assessment, form: ManualFindingForm) -> None:
    """Call the manual finding service with the validated form."""
    review.add_manual_finding(
        assessment, severity=form.severity.data,
        title={"en": form.title_en.data or "", "fr": form.title_fr.data or ""},
        remediation={"en": form.remediation_en.data or "", "fr": form.remediation_fr.data or ""},
        due_date=form.due_date.data, by=current_user)


def summary(assessment: Assessment) -> dict[str, Any]:
    """Return the result the decision page shows."""
    result = review.result_of(assessment)
    return {"result": result, "default_next_review": review.default_next_review(result.tier)}


def decision_form(assessment: Assessment) -> DecisionForm:
    """Build the decision form, the next review date prefilled from the tier, the open findings
    to share with the vendor and the owners to choose (the decider by default)."""
    form = DecisionForm()
    if request.method == "GET" and form.next_review_date.data is None:
        # the decision rests on the latest answers: re-scored first if an autosave left them stale
        form.next_review_date.data = review.default_next_review(review.result_of(assessment).tier)
    form.share.choices = [(f.finding_id, f.finding_id) for f in review.shareable_findings(assessment)]
    form.buyer_owner.choices = [(str(u.id), u.name) for u in remediation.buyer_owners(assessment)]
    form.vendor_owner.choices = [("", _("Every contact"))] + [
        (str(c.id), f"{c.name} <{c.email}>") for c in remediation.vendor_owners(assessment)]
    if request.method == "GET":
        form.buyer_owner.data = str(current_user.id)
    return form


def shareable(assessment: Assessment) -> list[Any]:
    """Return the open findings the decision form offers to send to the vendor, with the
    remediation text and the due date the questionnaire suggests."""
    q = questionnaire_of(assessment)
    days = {rule.id: rule.due_days for rule in q.findings}
    today = date.today()
    return [{"record": f, "due": (today + timedelta(days=days[f.finding_id])).isoformat()
             if days.get(f.finding_id) else ""} for f in review.shareable_findings(assessment)]


def _latest_version(questionnaire_id: str) -> str | None:
    try:
        return str(current_app.extensions["questionnaires"].get(questionnaire_id).version)
    except KeyError:
        return None


def _forms(assessment: Assessment) -> dict[str, Any]:
    return {"clarify": ClarificationForm(formdata=None), "evidence": EvidenceReviewForm(formdata=None),
            "override": ItemOverrideForm(formdata=None), "severity": SeverityOverrideForm(formdata=None),
            "state": FindingStateForm(formdata=None), "manual": ManualFindingForm(formdata=None),
            "reassess": reassess_form(assessment)}


def render_review(assessment: Assessment, *, section_id: str | None = None,
                  failed: tuple[str, Any] | None = None, status: int = 200) -> Any:
    """Render the overview, or one section when `section_id` is given."""
    q = questionnaire_of(assessment)
    result = review.page_result(assessment, q)  # the last results are shown, with their age
    locale = current_locale()
    sections = p.visible_sections(q, result)
    current = next((s for s in sections if s.id == section_id), None)
    if section_id and current is None:
        abort(404)
    forms = _forms(assessment)
    findings = p.finding_views(q, assessment, result, locale)
    requests = remediation.requests_of(assessment)
    waivers = {r.finding.finding_id: r.waiver_expires for r in requests
               if r.state is RemediationState.WAIVED}
    context = {
        "assessment": assessment, "q": q, "result": result, "sections": sections,
        "section": current, "forms": forms, "failed": failed, "locale": locale,
        "items": p.item_views(assessment, current, result, locale) if current else [],
        "findings": findings,
        "verdict": p.verdict_view(q, result, findings, locale, waivers),
        "categories": p.category_views(q, result, locale),
        "can_review": assessment.status in review.REVIEWABLE,
        "can_reassess": assessment.status in review.REASSESSABLE,
        "latest_version": _latest_version(assessment.questionnaire_id),
        "links": answer_links.assessment_links(assessment) if not current else [],
        "document_findings": expiry.document_findings(assessment, result.computed, date.today(), q),
        **_remediation(assessment, findings, requests),
    }
    template = "buyer/assessments/section.html" if current else "buyer/assessments/detail.html"
    return render_template(template, **context), status


def _remediation(assessment: Assessment, findings: list[Any],
                 requests: list[RemediationRequest]) -> dict[str, Any]:
    """Return the remediation requests and the open findings that could still become one."""
    asked = {r.finding.finding_id for r in requests}
    requestable = [f for f in findings if f.finding_id not in asked
                   and (f.record is None or f.record.state in STILL_OPEN)]
    decided = assessment.status is AssessmentStatus.DECIDED
    owners = {"buyer": remediation.buyer_owners(assessment),
              "vendor": remediation.vendor_owners(assessment)} if decided and requestable else {}
    return {"remediation": requests, "today": date.today(), "owners": owners,
            "requestable": requestable if decided else []}


def render_form_error(assessment: Assessment, key: str, form: Any) -> Any:
    """Show the page again with the failed form beside its target (422, nothing stored)."""
    return render_review(assessment, section_id=request.form.get("section") or None,
                         failed=(key, form), status=422)
