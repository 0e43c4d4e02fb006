"""Buyer views of assessments: dashboard, sending, review, decision and re-assessment."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from vendorcheck import downloads
from vendorcheck.access import can, current_membership, get_owned_or_404, requires
from vendorcheck.buyer import pages
from vendorcheck.buyer.blueprint import bp
from vendorcheck.buyer.review_forms import (
    CancelForm,
    ClarificationForm,
    ConfirmForm,
    EvidenceReviewForm,
    FindingStateForm,
    ItemOverrideForm,
    ManualFindingForm,
    SeverityOverrideForm,
)
from vendorcheck.errors import abort_with
from vendorcheck.models.assessments import (
    Assessment,
    Decision,
    EvidenceReview,
    FindingState,
)
from vendorcheck.services import reminders, review
from vendorcheck.services.assessments.dashboard import BadQuery, parse_query
from vendorcheck.services.errors import DomainError


@bp.context_processor
def _labels() -> dict[str, Any]:
    """Give templates the words for statuses, tiers, severities, states and decisions."""
    return pages.labels()


def _assessment(assessment_id: int) -> Assessment:
    """Load an assessment of the active organisation, or 404."""
    return get_owned_or_404(Assessment, assessment_id, "buyer_org_id")


def _back(assessment: Assessment, anchor: str | None = None) -> Any:
    """Redirect to where the reviewer acted: the section page (?section=) or the overview."""
    section = request.form.get("section") or request.args.get("section")
    if section:
        return redirect(url_for("buyer.section", assessment_id=assessment.id,
                                section_id=section, _anchor=anchor))
    return redirect(url_for("buyer.assessment", assessment_id=assessment.id, _anchor=anchor))


def _refused(assessment: Assessment, exc: DomainError, **page: Any) -> Any:
    """Show the page again with the refusal, answering the domain error's status."""
    flash(exc.message, "error")
    return pages.render_review(assessment, status=exc.status, **page)


@bp.get("/assessments", endpoint="dashboard")
@requires("assessments.view")
def dashboard() -> Any:
    """List every vendor with its assessments: filters, sort, search and pages."""
    try:
        query = parse_query(request.args)
    except BadQuery as exc:
        abort_with(400, str(exc))
    return render_template("buyer/assessments/dashboard.html", **pages.dashboard_context(query))


@bp.route("/assessments/new", methods=["GET", "POST"])
@requires("assessments.manage")
def new() -> Any:
    """Send an assessment: vendor, questionnaire (latest published), due date, contacts."""
    form = pages.send_form()
    if form.validate_on_submit():
        try:
            assessment = pages.send(form)
        except DomainError as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Assessment sent to the vendor's contacts."), "success")
            return redirect(url_for("buyer.assessment", assessment_id=assessment.id))
    status = 422 if request.method == "POST" else 200
    return render_template("buyer/assessments/new.html", form=form), status


@bp.get("/assessments/<int:assessment_id>", endpoint="assessment")
@requires("assessments.view")
def detail(assessment_id: int) -> Any:
    """Show the overview: scores, findings, clarifications, decision; opening it starts the review."""
    assessment = _assessment(assessment_id)
    if can(current_membership(), "assessments.manage") and review.open_review(
            assessment, by=current_user):
        flash(_("The review has started: the assessment is now in review."), "info")
    return pages.render_review(assessment)


@bp.get("/assessments/<int:assessment_id>/sections/<section_id>")
@requires("assessments.view")
def section(assessment_id: int, section_id: str) -> Any:
    """Show one section's answers in words, with evidence and reviewer actions."""
    return pages.render_review(_assessment(assessment_id), section_id=section_id)


@bp.post("/assessments/<int:assessment_id>/refresh-results")
@requires("assessments.view")
def refresh_results(assessment_id: int) -> Any:
    """Recompute this assessment's results now (the page otherwise shows the last ones)."""
    assessment = _assessment(assessment_id)
    review.refresh_now(assessment, by=current_user)
    flash(_("Results recomputed from the latest answers."), "success")
    return _back(assessment)


@bp.post("/assessments/<int:assessment_id>/clarifications")
@requires("assessments.manage")
def clarify(assessment_id: int) -> Any:
    """Ask the vendor to clarify one answer."""
    assessment = _assessment(assessment_id)
    form = ClarificationForm()
    if not form.validate_on_submit():
        return pages.render_form_error(assessment, "clarify", form)
    try:
        review.request_clarification(assessment, form.item_id.data, form.question.data,
                                     by=current_user)
    except DomainError as exc:
        return _refused(assessment, exc, section_id=request.form.get("section"))
    flash(_("Clarification requested; the vendor has been notified."), "success")
    return _back(assessment, f"item-{form.item_id.data}")


@bp.post("/assessments/<int:assessment_id>/evidence/<int:evidence_id>")
@requires("assessments.manage")
def review_evidence(assessment_id: int, evidence_id: int) -> Any:
    """Accept or reject an evidence file with a comment."""
    assessment = _assessment(assessment_id)
    evidence = pages.evidence_of(assessment, evidence_id)
    form = EvidenceReviewForm()
    if not form.validate_on_submit():
        return pages.render_form_error(assessment, f"evidence-{evidence.id}", form)
    try:
        review.review_evidence(evidence, EvidenceReview(form.state.data), form.comment.data,
                               by=current_user)
    except DomainError as exc:
        return _refused(assessment, exc, section_id=request.form.get("section"))
    flash(_("Evidence review saved."), "success")
    return _back(assessment, f"item-{evidence.item_id}")


@bp.get("/assessments/<int:assessment_id>/evidence/<int:evidence_id>")
@requires("assessments.view")
def download_evidence(assessment_id: int, evidence_id: int) -> Any:
    """Download an evidence file (attachment, locked-down headers; legal may download)."""
    return downloads.evidence_file(pages.evidence_of(_assessment(assessment_id), evidence_id))


@bp.post("/assessments/<int:assessment_id>/overrides/item")
@requires("assessments.manage")
def override_item(assessment_id: int) -> Any:
    """Override an item's points; the computed value stays beside it."""
    assessment = _assessment(assessment_id)
    form = ItemOverrideForm()
    if not form.validate_on_submit():
        return pages.render_form_error(assessment, f"override-{form.item_id.data}", form)
    try:
        review.override_item_points(assessment, form.item_id.data, float(form.points.data),
                                    form.comment.data, by=current_user)
    except DomainError as exc:
        return _refused(assessment, exc, section_id=request.form.get("section"))
    flash(_("Points overridden; the computed value is kept beside them."), "success")
    return _back(assessment, f"item-{form.item_id.data}")


@bp.post("/assessments/<int:assessment_id>/overrides/finding")
@requires("assessments.manage")
def override_finding(assessment_id: int) -> Any:
    """Override a finding's severity; the computed severity stays beside it."""
    assessment = _assessment(assessment_id)
    form = SeverityOverrideForm()
    if not form.validate_on_submit():
        return pages.render_form_error(assessment, f"severity-{form.finding_id.data}", form)
    try:
        review.override_finding_severity(assessment, form.finding_id.data, form.severity.data,
                                         form.comment.data, by=current_user)
    except DomainError as exc:
        return _refused(assessment, exc)
    flash(_("Severity overridden; the computed severity is kept beside it."), "success")
    return _back(assessment, "findings")


@bp.post("/assessments/<int:assessment_id>/findings")
@requires("assessments.manage")
def add_finding(assessment_id: int) -> Any:
    """Add a finding by hand."""
    assessment = _assessment(assessment_id)
    form = ManualFindingForm()
    if not form.validate_on_submit():
        return pages.render_form_error(assessment, "manual-finding", form)
    try:
        pages.add_manual_finding(assessment, form)
    except DomainError as exc:
        return _refused(assessment, exc)
    flash(_("Finding added."), "success")
    return _back(assessment, "findings")


@bp.post("/assessments/<int:assessment_id>/findings/state")
@requires("assessments.manage")
def finding_state(assessment_id: int) -> Any:
    """Set a finding's state and due date."""
    assessment = _assessment(assessment_id)
    form = FindingStateForm()
    if not form.validate_on_submit():
        return pages.render_form_error(assessment, f"state-{form.finding_id.data}", form)
    try:
        review.set_finding_state(assessment, form.finding_id.data, FindingState(form.state.data),
                                 due_date=form.due_date.data, comment=form.comment.data,
                                 by=current_user)
    except DomainError as exc:
        return _refused(assessment, exc)
    flash(_("Finding updated."), "success")
    return _back(assessment, "findings")


@bp.route("/assessments/<int:assessment_id>/reopen", methods=["GET", "POST"])
@requires("assessments.manage")
def reopen(assessment_id: int) -> Any:
    """Confirm, then give the assessment back to the vendor."""
    assessment = _assessment(assessment_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        review.reopen_assessment(assessment, by=current_user)
        flash(_("The assessment is back with the vendor, who must submit it again."), "success")
        return redirect(url_for("buyer.assessment", assessment_id=assessment.id))
    return render_template("buyer/assessments/reopen.html", assessment=assessment, form=form)


@bp.post("/assessments/<int:assessment_id>/remind")
@requires("assessments.manage")
def remind(assessment_id: int) -> Any:
    """E-mail the vendor's contacts a reminder now (at most once a day)."""
    assessment = _assessment(assessment_id)
    try:
        count = reminders.remind_now(assessment, by=current_user)
    except DomainError as exc:
        return _refused(assessment, exc)
    flash(ngettext("Reminder sent to %(num)d contact.", "Reminder sent to %(num)d contacts.", count),
          "success")
    return redirect(url_for("buyer.assessment", assessment_id=assessment.id))


@bp.route("/assessments/<int:assessment_id>/cancel", methods=["GET", "POST"])
@requires("assessments.manage")
def cancel(assessment_id: int) -> Any:
    """Confirm with a reason, then withdraw an undecided assessment; the contacts are told why."""
    assessment = _assessment(assessment_id)
    form = CancelForm()
    status = 200
    if form.validate_on_submit():
        try:
            review.cancel_assessment(assessment, form.reason.data, by=current_user)
        except DomainError as exc:
            form.form_errors.append(exc.message)
            status = exc.status
        else:
            flash(_("Assessment cancelled; the vendor's contacts have been told."), "success")
            return redirect(url_for("buyer.assessment", assessment_id=assessment.id))
    elif request.method == "POST":
        status = 422
    return render_template("buyer/assessments/cancel.html", assessment=assessment, form=form), status


@bp.route("/assessments/<int:assessment_id>/decide", methods=["GET", "POST"])
@requires("assessments.manage")
def decide(assessment_id: int) -> Any:
    """Record the decision with a comment and the next review date (prefilled by tier)."""
    assessment = _assessment(assessment_id)
    form = pages.decision_form(assessment)
    if form.validate_on_submit():
        buyer_owner, vendor_owner = form.owner_ids()
        try:
            review.decide_assessment(assessment, Decision(form.decision.data), form.comment.data,
                                     next_review_date=form.next_review_date.data, by=current_user,
                                     reason=form.reason.data,
                                     shared=[review.SharedFinding(**one) for one in form.shared],
                                     buyer_owner_id=buyer_owner, vendor_owner_id=vendor_owner)
        except review.ReasonRequired as exc:
            form.reason.errors = [*form.reason.errors, exc.message]
        except DomainError as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Decision recorded; the vendor has been notified."), "success")
            return redirect(url_for("buyer.assessment", assessment_id=assessment.id))
    status = 422 if request.method == "POST" else 200
    return render_template("buyer/assessments/decide.html", assessment=assessment, form=form,
                           summary=pages.summary(assessment),
                           concerns=review.decision_concerns(assessment),
                           shareable=pages.shareable(assessment)), status


@bp.post("/assessments/<int:assessment_id>/reassess")
@requires("assessments.manage")
def reassess(assessment_id: int) -> Any:
    """Send next year's assessment from this one, answers carried forward."""
    assessment = _assessment(assessment_id)
    form = pages.reassess_form(assessment)
    if not form.validate_on_submit():
        return pages.render_form_error(assessment, "reassess", form)
    try:
        new_assessment = pages.reassess(assessment, form)
    except DomainError as exc:
        return _refused(assessment, exc)
    flash(_("Re-assessment sent; answers that still apply were carried forward."), "success")
    return redirect(url_for("buyer.assessment", assessment_id=new_assessment.id))

