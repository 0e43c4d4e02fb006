"""Answer links for tests: a contact's link to one assessment, issued through the service."""

from __future__ import annotations

from vendorcheck.extensions import db
from vendorcheck.models import Contact, User
from vendorcheck.models.assessments import Assessment
from vendorcheck.services.answer_links import issue_link


def make_answer_link(assessment: Assessment, contact: Contact, *, by: User | None = None) -> str:
    """Issue and commit a link for `contact`; return its raw token (call inside an app context)."""
    _link, token = issue_link(assessment, contact, by=by)
    db.session.commit()
    return token


def link_cookie_path(assessment_id: int) -> str:
    """Return the path the link cookie is scoped to (what a browser would send it for)."""
    return f"/vendor/assessments/{assessment_id}"
