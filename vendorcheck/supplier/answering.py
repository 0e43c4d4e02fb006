"""Vendor views: the assessments sent to my organisation, answering, evidence, submit."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from vendorcheck import downloads, link_access
from vendorcheck.access import current_membership, current_org, get_owned_or_404, requires
from vendorcheck.errors import render_error
from vendorcheck.extensions import db
from vendorcheck.forms import options
from vendorcheck.i18n import clock_text, viewer_timezone
from vendorcheck.link_access import answering
from vendorcheck.models.assessments import Assessment, AssessmentStatus, Clarification, Evidence
from vendorcheck.questionnaire import Section, score, validate_answers
from vendorcheck.questionnaire.client import client_plan
from vendorcheck.services import assessments as svc
from vendorcheck.services.dpa import is_dpa_draft
from vendorcheck.services.errors import DomainError, ValidationFailed
from vendorcheck.services.remediation import requests_of as remediation_requests
from vendorcheck.services.uploads import UploadRejected, display_name
from vendorcheck.supplier import forms as vf
from vendorcheck.supplier.blueprint import bp

PERM = "assessments.answer"


@bp.errorhandler(StaleDataError)
def _stale(exc: StaleDataError) -> Response:
    """A race between two saves: answer 409, nothing overwritten."""
    db.session.rollback()
    return render_error(409)


def sent_assessment(assessment_id: int) -> Assessment:
    """Load an assessment sent to the active vendor organisation (or the link's), or 404."""
    holder = link_access.current_holder()
    if holder is None:
        assessment = get_owned_or_404(Assessment, assessment_id, "vendor_org_id")
    else:  # `answering` let the holder in for this assessment only
        assessment = db.session.get(Assessment, holder.assessment_id)
        if assessment is None or assessment.id != assessment_id or is_dpa_draft(assessment):
            abort(404)
    if assessment.status is AssessmentStatus.DRAFT:
        abort(404)
    return assessment


def _section(assessment: Assessment, section_id: str) -> Section:
    """Return a section of the pinned questionnaire, or 404."""
    q = svc.questionnaire_of(assessment)
    section = next((s for s in q.sections if s.id == section_id), None)
    if section is None:
        abort(404)
    return section


def overview_context(assessment: Assessment) -> dict[str, Any]:
    """Prepare the overview: sections with progress and visibility, missing items."""
    q = svc.questionnaire_of(assessment)
    result = score(q, svc.answers_of(assessment))
    progress = svc.section_progress(q, result.visibility)
    overall = (sum(d for d, _t in progress.values()), sum(t for _d, t in progress.values()))
    holder = link_access.current_holder()
    return {"assessment": assessment, "q": q, "result": result, "text": vf.text,
            "progress": progress, "overall": overall, "editable": svc.is_editable(assessment),
            "clarifications": assessment.clarifications,
            # a link holder sees this one assessment only: not the organisation's other answers
            "previous": [] if holder else svc.previous_submissions(assessment),
            "clar_form": vf.ClarificationAnswerForm(), "dpa_draft": is_dpa_draft(assessment),
            "clar_max_mb": format_decimal(svc.clarification_file_rules()[1]),
            "remediation": remediation_requests(assessment), "today": date.today(),
            "link_holder": holder, "link_code_ok": holder is None or link_access.code_checked(holder)}


def _section_context(assessment: Assessment, section: Section, form: Any,
                     posted: dict[str, Any] | None = None, problems: dict[str, str] | None = None
                     ) -> dict[str, Any]:
    """Prepare everything the section template shows (visibility from posted values if any)."""
    q = svc.questionnaire_of(assessment)
    answers = {**svc.answers_of(assessment), **(posted or {})}
    answers = {k: v for k, v in answers.items() if not validate_answers(q, {k: v}).problems}
    result = score(q, answers)
    page = [i.id for i in section.items]
    rules = client_plan(q, today=date.today(), answers=answers, targets=page, page=page)
    context = {**overview_context(assessment), "section": section, "form": form, "answers": answers,
               "rows": svc.answer_rows(assessment), "visibility": result.visibility,
               "problems": problems or {}, "rules": rules, "choices_of": vf.choices_of,
               "open": svc.open_clarifications(assessment), "table_rows": _tables(section, answers)}
    context["ctx"] = context
    return context


def _tables(section: Section, answers: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Return each table's rows to show: as posted (with added/removed rows), else as stored."""
    tables = [i for i in section.items if i.kind.has_rows]
    if request.method == "POST":
        return {i.id: vf.table_rows(i, request.form) for i in tables}
    return {i.id: list(answers.get(i.id) or []) for i in tables}


@bp.get("/assessments", endpoint="assessments")
@requires(PERM)
def assessments_list() -> str:
    """List the assessments every buyer sent to my organisation."""
    org = current_org()
    assert org is not None
    assessments = svc.vendor_assessments(org)
    return render_template("supplier/assessments.html", assessments=assessments,
                           dpa_drafts={a.id for a in assessments if is_dpa_draft(a)})


@bp.get("/assessments/<int:assessment_id>", endpoint="assessment")
@answering(requires(PERM))
def assessment_overview(assessment_id: int) -> str:
    """Show the sections with their progress, clarifications and next steps."""
    return render_template("supplier/assessment.html", **overview_context(sent_assessment(assessment_id)))


def _initial(assessment: Assessment, section: Section) -> dict[str, Any]:
    """Return the form's initial data from the stored answers."""
    rows = svc.answer_rows(assessment)
    data: dict[str, Any] = {}
    for item in section.items:
        row = rows.get(item.id)
        if vf.has_field(item):
            data[item.id] = row.value if row else None
        data[f"{item.id}__justification"] = row.justification if row else None
        data[f"{item.id}__version"] = str(row.version) if row else ""
    return data


@bp.route("/assessments/<int:assessment_id>/sections/<string(maxlength=64):section_id>",
          methods=["GET", "POST"], endpoint="section")
@answering(requires(PERM))
def section_page(assessment_id: int, section_id: str) -> Any:
    """Show or save one section (works without JavaScript)."""
    assessment = sent_assessment(assessment_id)
    section = _section(assessment, section_id)
    formdata = request.form if request.method == "POST" else None
    form = vf.build_section_form(section, formdata, _initial(assessment, section))
    if request.method == "GET":
        return render_template("supplier/section.html", **_section_context(assessment, section, form))
    if not form.validate():
        return _section_error(assessment, section, form, {}, 400)
    values, notes, versions = vf.section_values(section, form, request.form)
    if request.form.get("add_row") or request.form.get("remove_row"):
        return _section_error(assessment, section, form, values, 200)
    try:
        svc.save_section(assessment, section.id, svc.SectionInput(values, notes, versions),
                         by=link_access.actor())
    except svc.AnswerInvalid as exc:
        return _section_error(assessment, section, form, values, 422, exc.problems)
    except DomainError as exc:
        return _section_error(assessment, section, form, values, exc.status, {"": exc.message})
    flash(_("Section saved."), "success")
    return redirect(_after_save(assessment, section))


def _section_error(assessment: Assessment, section: Section, form: Any, values: dict[str, Any],
                   status: int, problems: dict[str, str] | None = None) -> tuple[str, int]:
    """Re-render the section with what was posted (nothing is lost) and the problems."""
    if problems and status != 200:
        flash(_("Some answers could not be saved; see the messages below. Nothing was lost."),
              "error")
    context = _section_context(assessment, section, form, values, problems)
    return render_template("supplier/section.html", **context), status


def _after_save(assessment: Assessment, section: Section) -> str:
    """Return where "Save" leads: the next section, or the overview after the last."""
    q = svc.questionnaire_of(assessment)
    ids = [s.id for s in q.sections]
    if request.form.get("next") and ids.index(section.id) + 1 < len(ids):
        return url_for("supplier.section", assessment_id=assessment.id,
                       section_id=ids[ids.index(section.id) + 1])
    if request.form.get("next"):
        return url_for("supplier.assessment", assessment_id=assessment.id)
    return url_for("supplier.section", assessment_id=assessment.id, section_id=section.id)


@bp.post("/assessments/<int:assessment_id>/autosave", endpoint="autosave")
@answering(requires(PERM))
def autosave(assessment_id: int) -> tuple[Response, int]:
    """Save one changed item (JSON); 409 on a stale version, replays return the stored result."""
    # Chosen now: after the commit, reading the user's language or zone would reload the user.
    get_locale()
    zone = viewer_timezone()
    body = request.get_json(silent=True)  # read before the turn: other saves wait during it
    body = body if isinstance(body, dict) else request.form.to_dict()
    # The save turn is taken by the load itself (one locked SELECT); a refusal below rolls it back.
    # A member locks only an assessment sent to its organisation; a link holder was let in for one.
    holder = link_access.current_holder()
    member = current_membership() if holder is None else None
    if holder is None and member is None:
        abort(404)  # never a lock without a scope
    scope = member.organisation_id if member is not None else None
    locked = svc.take_save_turn(assessment_id, scope)  # held: the session keeps objects weakly
    assessment = sent_assessment(assessment_id)  # found in the session, ownership still checked
    del locked
    try:
        saved = svc.save_answer(
            assessment, str(body.get("item_id", "")), body.get("value"),
            seen_version=body.get("version"),
            request_id=str(body["request_id"]) if body.get("request_id") else None,
            by=link_access.actor(), justification=body.get("justification"))
    except svc.Conflict as exc:
        return jsonify(error="conflict", message=exc.message, current=exc.current,
                       version=exc.version, yours=body.get("value")), 409
    except DomainError as exc:
        return jsonify(error=exc.status, message=exc.message,
                       problems=getattr(exc, "problems", {})), exc.status
    when = clock_text(saved.saved_at, zone)  # in the viewer's zone, with the zone named
    return jsonify(ok=True, item_id=saved.item_id, version=saved.version, progress=saved.progress,
                   message=_("Saved at %(time)s", time=when), replayed=saved.replayed), 200


@bp.post("/assessments/<int:assessment_id>/items/<string(maxlength=64):item_id>/evidence",
         endpoint="upload_evidence")
@answering(requires(PERM))
def upload_evidence(assessment_id: int, item_id: str) -> Any:
    """Store one evidence file for an item (content checked); the form's answers stay saved."""
    assessment = sent_assessment(assessment_id)
    upload = request.files.get("file")
    back = request.form.get("section") or ""
    if upload is None or not upload.filename:
        raise ValidationFailed(_("Choose a file to upload."))
    effective_on, expires_on = vf.evidence_dates(request.form)
    try:
        evidence = svc.add_evidence(assessment, item_id, upload, by=link_access.actor(),
                                    effective_on=effective_on, expires_on=expires_on)
    except UploadRejected as exc:  # name the file: the error page has only the message
        raise UploadRejected(_("“%(name)s” was not uploaded: %(why)s",
                               name=display_name(upload.filename), why=exc.message)) from None
    flash(_("File “%(name)s” uploaded.", name=evidence.file_name), "success")
    return redirect(_back_to(assessment, back), 303)


def _back_to(assessment: Assessment, section_id: str) -> str:
    """Return the section page to go back to (the overview for an unknown section)."""
    q = svc.questionnaire_of(assessment)
    if any(s.id == section_id for s in q.sections):
        return url_for("supplier.section", assessment_id=assessment.id, section_id=section_id)
    return url_for("supplier.assessment", assessment_id=assessment.id)


def _evidence(assessment: Assessment, evidence_id: int) -> Evidence:
    """Load an evidence file of this assessment, or 404."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.assessment_id != assessment.id:
        abort(404)
    return evidence


@bp.get("/assessments/<int:assessment_id>/evidence/<int:evidence_id>", endpoint="download_evidence")
@answering(requires(PERM))
def download_evidence(assessment_id: int, evidence_id: int) -> Response:
    """Download an evidence file of my organisation's assessment."""
    return downloads.evidence_file(_evidence(sent_assessment(assessment_id), evidence_id))


@bp.post("/assessments/<int:assessment_id>/evidence/<int:evidence_id>/dates",
         endpoint="evidence_dates")
@answering(requires(PERM))
def evidence_dates(assessment_id: int, evidence_id: int) -> Any:
    """Set when an evidence file's document takes effect and when it expires."""
    assessment = sent_assessment(assessment_id)
    evidence = _evidence(assessment, evidence_id)
    effective_on, expires_on = vf.evidence_dates(request.form)
    svc.set_evidence_dates(evidence, effective_on=effective_on, expires_on=expires_on,
                           by=link_access.actor())
    flash(_("Dates of “%(name)s” saved.", name=evidence.file_name), "success")
    return redirect(_back_to(assessment, request.form.get("section") or ""), 303)


@bp.route("/assessments/<int:assessment_id>/evidence/<int:evidence_id>/remove",
          methods=["GET", "POST"], endpoint="remove_evidence")
@answering(requires(PERM))
def remove_evidence(assessment_id: int, evidence_id: int) -> Any:
    """Confirm, then delete an evidence file while the item is editable."""
    assessment = sent_assessment(assessment_id)
    evidence, form = _evidence(assessment, evidence_id), vf.ConfirmForm()
    if not form.validate_on_submit():
        return render_template("supplier/remove_evidence.html", assessment=assessment,
                               evidence=evidence, form=form)
    svc.remove_evidence(evidence, by=link_access.actor())
    flash(_("File removed."), "success")
    return redirect(url_for("supplier.assessment", assessment_id=assessment.id))


@bp.route("/assessments/<int:assessment_id>/copy", methods=["GET", "POST"], endpoint="copy")
@requires(PERM)
def copy_answers(assessment_id: int) -> Any:
    """Choose one of our previous submissions and copy its answers into empty items."""
    assessment = sent_assessment(assessment_id)
    choices = svc.previous_submissions(assessment)
    form = vf.CopyForm()
    form.previous_id.choices = options((str(a.id), f"{a.buyer_org.name} — {a.submitted_at:%Y-%m-%d}")
                                       for a in choices)
    if form.is_submitted() and form.previous_id.data and form.previous_id.data not in {
            str(a.id) for a in choices}:
        abort(404)  # another vendor's (or an unknown) assessment: never reveal it exists
    if not form.validate_on_submit():
        return render_template("supplier/copy.html", assessment=assessment, form=form,
                               choices=choices), 422 if form.is_submitted() else 200
    previous = next(a for a in choices if str(a.id) == form.previous_id.data)
    count = svc.copy_answers_from(previous, assessment, by=current_user)
    flash(_("%(n)d answers copied; please check and confirm each of them.", n=count), "success")
    return redirect(url_for("supplier.assessment", assessment_id=assessment.id))


@bp.route("/assessments/<int:assessment_id>/submit", methods=["GET", "POST"], endpoint="submit")
@answering(requires(PERM))
def submit(assessment_id: int) -> Any:
    """Show what is missing, or the attestation; submit with the attestation."""
    assessment = sent_assessment(assessment_id)
    form = vf.AttestationForm()
    if request.method == "GET":
        form.name.data, form.role.data = svc.known_signatory(assessment, link_access.actor())
    if form.validate_on_submit():
        try:
            svc.submit_assessment(assessment, name=form.name.data, role=form.role.data,
                                  statement=form.statement.data, by=link_access.actor())
            flash(_("Thank you: your answers were submitted."), "success")
            return redirect(url_for("supplier.assessment", assessment_id=assessment.id))
        except DomainError as exc:
            form.form_errors.append(exc.message)
    status = 422 if form.is_submitted() else 200
    return render_template("supplier/submit.html", form=form, missing=_missing(assessment),
                           **overview_context(assessment)), status


def _missing(assessment: Assessment) -> list[tuple[str, str, str]]:
    """Return (section id, item id, label) of each unanswered required item."""
    q = svc.questionnaire_of(assessment)
    return [(q.item(i).section or "", i, vf.text(q.item(i).label, i))
            for i in svc.missing_items(assessment)]


@bp.post("/assessments/<int:assessment_id>/clarifications/<int:clarification_id>",
         endpoint="answer_clarification")  # a form with an optional file (multipart)
@answering(requires(PERM))
def answer_clarification(assessment_id: int, clarification_id: int) -> Any:
    """Answer the buyer's question about one item."""
    assessment = sent_assessment(assessment_id)
    clarification = db.session.get(Clarification, clarification_id)
    if clarification is None or clarification.assessment_id != assessment.id:
        abort(404)
    form = vf.ClarificationAnswerForm()
    if not form.validate_on_submit():
        raise ValidationFailed(_("Write your answer to the question."))
    upload = request.files.get("file")
    try:
        svc.answer_clarification(clarification, form.answer.data, by=link_access.actor(),
                                 upload=upload if upload is not None and upload.filename else None)
    except UploadRejected as exc:  # name the file: the error page has only the message
        raise UploadRejected(_("“%(name)s” was not uploaded: %(why)s Your answer was not sent either.",
                               name=display_name(upload.filename if upload else ""),
                               why=exc.message)) from None
    flash(_("Your answer was sent to the buyer."), "success")
    return redirect(url_for("supplier.assessment", assessment_id=assessment.id))
