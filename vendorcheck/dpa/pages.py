"""The public pages of published DPA versions: document, PDF, history, diff, sub-processors and feeds.

They read only immutable `DpaVersion` rows (never drafts or evidence), need no login and are rate
limited. Answers are shown as escaped text; nothing user-written is rendered as HTML.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from flask import (
    Response,
    abort,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from vendorcheck.agreement.assemble import (
    LOCALES,
    SUBPROCESSOR_FIELDS,
    document_context,
)
from vendorcheck.agreement.diff import clause_changes, document_diff, row_changes, subprocessor_changes
from vendorcheck.dpa.blueprint import bp
from vendorcheck.errors import abort_with
from vendorcheck.extensions import limiter
from vendorcheck.i18n import current_locale
from vendorcheck.models.dpa import DpaProfile, DpaVersion
from vendorcheck.services import dpa as svc
from vendorcheck.services import dpa_changes, dpa_proposals

PUBLIC_LIMIT = "120 per minute"
PDF_LIMIT = "20 per minute"
JSON_SCHEMA = "vendorcheck/dpa-subprocessors@2"
SLUG = "<string(minlength=3,maxlength=80):slug>"


def _profile(slug: str) -> DpaProfile:
    """Return a profile with a version in force, or 404; changes now due take effect first."""
    profile = svc.profile_by_slug(slug)
    if profile is not None:
        dpa_changes.apply_due(profile_id=profile.id)  # the daily job may not have run yet
    if profile is None or svc.latest_version(profile) is None:
        abort(404)
    return profile


def _version(profile: DpaProfile, number: int) -> DpaVersion:
    """Return a published version by number, or 404 (0, negative, huge and unknown alike)."""
    version = svc.version_of(profile, number) if 0 < number < 2**31 else None
    if version is None:
        abort(404)
    return version


def _document(version: DpaVersion, locale: str | None = None) -> dict[str, Any]:
    """Return the document context of a version in the page's locale."""
    return document_context(version.content, locale=locale or current_locale(),
                            q=svc.questionnaire_of_version(version))


@bp.get(f"/{SLUG}", endpoint="latest")
@limiter.limit(PUBLIC_LIMIT)
def latest(slug: str) -> str:
    """Show the latest published version."""
    profile = _profile(slug)
    version = svc.latest_version(profile)
    assert version is not None
    return _version_page(profile, version)


@bp.get(f"/{SLUG}/v<int:number>", endpoint="version")
@limiter.limit(PUBLIC_LIMIT)
def version_page(slug: str, number: int) -> str:
    """Show one published version."""
    profile = _profile(slug)
    return _version_page(profile, _version(profile, number))


def _version_page(profile: DpaProfile, version: DpaVersion) -> str:
    latest_version = svc.latest_version(profile)
    return render_template("dpa/version.html", profile=profile, version=version,
                           latest=latest_version, doc=_document(version),
                           versions=svc.versions_of(profile))


@bp.get(f"/{SLUG}/v<int:number>.pdf", endpoint="version_pdf")
@limiter.limit(PDF_LIMIT)
def version_pdf(slug: str, number: int) -> Response:
    """Download the signed PDF of a version (`?locale=fr|en`)."""
    profile = _profile(slug)
    version = _version(profile, number)
    locale = request.args.get("locale") or current_locale()
    if locale not in LOCALES:
        abort_with(400, _("Unknown language: choose fr or en."))
    data = svc.version_pdf(version, locale)
    filename = f"dpa-{profile.slug}-v{version.number}-{locale}.pdf"
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get(f"/{SLUG}/versions", endpoint="versions")
@limiter.limit(PUBLIC_LIMIT)
def versions(slug: str) -> str:
    """List every published version with its date and digest."""
    profile = _profile(slug)
    listed = svc.versions_of(profile)
    before = dpa_proposals.predecessors(listed, dpa_proposals.proposals_by_version(profile.id))
    changes = {v.number: dpa_proposals.changes_between(before[v.number], v)
               for v in listed if v.number in before}
    return render_template("dpa/versions.html", profile=profile, versions=listed,
                           changes=changes, predecessors=before,
                           latest=svc.latest_version(profile))


def _diff_number(name: str) -> int:
    """Return a diff parameter as a version number, or answer 400 with a message."""
    raw = request.args.get(name, "")
    if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) < 1:
        abort_with(400, _("Give two version numbers to compare, e.g. ?from=1&to=2."))
    return int(raw)


@bp.get(f"/{SLUG}/diff", endpoint="diff")
@limiter.limit(PUBLIC_LIMIT)
def diff(slug: str) -> str:
    """Show what changed between two versions: clauses, annexes and sub-processors."""
    profile = _profile(slug)
    old_number, new_number = _diff_number("from"), _diff_number("to")
    if old_number == new_number:
        abort_with(400, _("Choose two different versions to compare."))
    old, new = _version(profile, old_number), _version(profile, new_number)
    changes = document_diff(old.content, new.content)
    old_doc, new_doc = _document(old), _document(new)
    annexes = [(new_doc["annexes"][name], row_changes(old_doc[f"annex_{name}"],
                                                      new_doc[f"annex_{name}"]))
               for name in ("parties", "processing", "measures")]
    return render_template("dpa/diff.html", profile=profile, old=old, new=new, changes=changes,
                           doc=new_doc, old_doc=old_doc,
                           clauses=clause_changes(old_doc["sections"],
                                                               new_doc["sections"]),
                           annexes=annexes, latest=svc.latest_version(profile),
                           words=_subprocessor_words(new_doc, new))


def _subprocessor_words(doc: dict[str, Any], version: DpaVersion) -> Any:
    """Return a function showing a sub-processor cell in words (the diff lists raw rows)."""
    from vendorcheck.agreement.assemble import Words

    words = Words(svc.questionnaire_of_version(version), doc["template"], doc["fmt"])
    return words.column


def _published(slug: str) -> tuple[DpaProfile, DpaVersion]:
    """Return a published DPA's profile and its latest version (404 for an unknown slug)."""
    profile = _profile(slug)
    current = svc.latest_version(profile)
    assert current is not None  # _profile answers 404 for a profile without versions
    return profile, current


def _processor_name(version: DpaVersion) -> str:
    """Return the processor's name as the version states it, else its organisation's name."""
    return version.content.get("parties", {}).get("processor_name") or version.vendor_org.name


@bp.get(f"/{SLUG}/subprocessors", endpoint="subprocessors")
@limiter.limit(PUBLIC_LIMIT)
def subprocessors(slug: str) -> str:
    """Show the current list of sub-processors, with the change log."""
    profile, current = _published(slug)
    proposals = dpa_proposals.proposals_by_version(profile.id)
    return render_template("dpa/subprocessors.html", profile=profile, latest=current,
                           doc=_document(current), log=_change_log(profile, proposals),
                           since=_in_force_since(proposals))


def _in_force_versions(profile: DpaProfile, proposals: dict[int, Any]) -> list[DpaVersion]:
    """Return the versions that came into force (no pending or withdrawn proposal), newest first."""
    return [v for v in svc.versions_of(profile) if dpa_proposals.is_in_force(v, proposals)]


def _in_force_since(proposals: dict[int, Any]) -> dict[int, datetime]:
    """Return, per version id of an applied proposal, when it came into force."""
    return {version_id: p.effective_at for version_id, p in proposals.items()
            if dpa_proposals.is_in_force(p.version, proposals)}


def _change_log(profile: DpaProfile, proposals: dict[int, Any]) -> list[tuple[DpaVersion, Any]]:
    """Return (version, changes) for each version in force that changed the sub-processors,
    newest first (announced changes not in force yet are listed apart)."""
    listed = _in_force_versions(profile, proposals)
    log = []
    for index, version in enumerate(listed):
        older = listed[index + 1].content.get("subprocessors") or [] \
            if index + 1 < len(listed) else []
        changes = subprocessor_changes(older, version.content.get("subprocessors") or [])
        if not changes.is_empty:
            log.append((version, changes))
    return log


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@bp.get(f"/{SLUG}/subprocessors.json", endpoint="subprocessors_json")
@limiter.limit(PUBLIC_LIMIT)
def subprocessors_json(slug: str) -> Response:
    """Return the current sub-processors as JSON (schema in docs/dpa.md)."""
    profile, latest_version = _published(slug)
    body = {
        "schema": JSON_SCHEMA,
        "vendor": _processor_name(latest_version),
        "slug": profile.slug,
        "version": latest_version.number,
        "published_at": _iso(latest_version.published_at),
        "sha256": latest_version.sha256,
        "url": url_for("dpa.version", slug=profile.slug, number=latest_version.number,
                       _external=True),
        "subprocessors": [
            {key: row.get(key) for key in SUBPROCESSOR_FIELDS}
            for row in latest_version.content.get("subprocessors") or []
        ],
        "proposed_changes": [_proposed_json(p) for p in dpa_proposals.proposals_of(profile.id)
                             if p.is_pending],
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _rows_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: row.get(key) for key in SUBPROCESSOR_FIELDS} for row in rows]


def _proposed_json(proposal: Any) -> dict[str, Any]:
    """Return an announced change that is not in force yet (schema @2, docs/dpa.md)."""
    changes = dpa_proposals.changes_of(proposal)
    version = proposal.version
    return {
        "version": version.number, "sha256": version.sha256,
        "url": url_for("dpa.version", slug=proposal.profile.slug, number=version.number,
                       _external=True),
        "announced_at": _iso(version.published_at),
        "objection_deadline": _iso(proposal.objection_deadline),
        "effective_at": _iso(proposal.effective_at),
        "authorisation": proposal.authorisation,
        "added": _rows_json(changes.added), "removed": _rows_json(changes.removed),
        "changed": [{"before": _rows_json([old])[0], "after": _rows_json([new])[0]}
                    for old, new in changes.changed],
        "subprocessors": _rows_json(version.content.get("subprocessors") or []),
    }


@bp.get(f"/{SLUG}/subprocessors.atom", endpoint="subprocessors_atom")
@limiter.limit(PUBLIC_LIMIT)
def subprocessors_atom(slug: str) -> Response:
    """Return an Atom 1.0 feed: one entry per version that changed the sub-processors."""
    profile, current = _published(slug)
    proposals = dpa_proposals.proposals_by_version(profile.id)
    log = _change_log(profile, proposals)
    since = _in_force_since(proposals)
    announced = [(p, dpa_proposals.changes_of(p)) for p in dpa_proposals.proposals_of(profile.id)
                 if not dpa_proposals.is_in_force(p.version, proposals)]
    name = _processor_name(current)
    moments = [since.get(v.id, v.published_at) for v, _c in log[:1]] + \
        [p.withdrawn_at or p.version.published_at for p, _c in announced] + [current.published_at]
    xml = render_template("dpa/subprocessors.atom", profile=profile, log=log, name=name,
                          since=since, announced=announced, updated=_iso(max(moments)), iso=_iso,
                          feed_url=url_for("dpa.subprocessors_atom", slug=profile.slug,
                                           _external=True),
                          page_url=url_for("dpa.subprocessors", slug=profile.slug,
                                           _external=True), x=xml_escape)
    return Response(xml, mimetype="application/atom+xml")
