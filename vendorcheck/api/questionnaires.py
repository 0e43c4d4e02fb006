"""The questionnaires a buyer can send, each version readable as JSON."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app
from flask.views import MethodView

from vendorcheck.api.auth import READ, allows
from vendorcheck.api.common import api_blueprint
from vendorcheck.api.schemas import QuestionnaireDetail, QuestionnaireList
from vendorcheck.questionnaire import Questionnaire

blp = api_blueprint("questionnaires", "/questionnaires", "Questionnaires and their versions.")


def catalogue_list() -> list[Questionnaire]:
    """Return every loaded questionnaire version (sorted by id, then version)."""
    return list(current_app.extensions["questionnaires"].questionnaires)


def describe(q: Questionnaire, *, full: bool = False) -> dict[str, Any]:
    """Return a questionnaire version as the API shows it; `full` adds its sections and items."""
    data: dict[str, Any] = {"id": q.id, "version": q.version, "title": q.title.as_dict(),
                            "sha256": q.sha256, "for_buyers": q.for_buyers}
    if full:
        data["sections"] = [{
            "id": s.id, "title": s.title.as_dict(),
            "items": [{"id": i.id, "type": i.type, "label": i.label.as_dict() if i.label else {},
                       "required": bool(i.required), "options": [o.value for o in i.options]}
                      for i in s.items]} for s in q.sections]
    return data


@blp.route("")
class QuestionnairesView(MethodView):
    @allows("assessments.view", READ)
    @blp.response(200, QuestionnaireList)
    def get(self) -> dict[str, Any]:
        """List every questionnaire version (the ones with `for_buyers` can be sent)."""
        return {"items": [describe(q) for q in catalogue_list()]}


@blp.route("/<string(maxlength=80):questionnaire_id>/<string(maxlength=20):version>")
class QuestionnaireView(MethodView):
    @allows("assessments.view", READ)
    @blp.etag
    @blp.response(200, QuestionnaireDetail)
    def get(self, questionnaire_id: str, version: str) -> dict[str, Any]:
        """Read one version: its sections and items."""
        found = next((q for q in catalogue_list() if q.id == questionnaire_id and q.version == version), None)
        if found is None:
            abort(404)
        return describe(found, full=True)
