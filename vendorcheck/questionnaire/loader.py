"""Load one questionnaire file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from marshmallow import ValidationError

from vendorcheck.questionnaire.build import build_questionnaire
from vendorcheck.questionnaire.datasets import CountryGroups
from vendorcheck.questionnaire.errors import QuestionnaireError, fail
from vendorcheck.questionnaire.model import Questionnaire
from vendorcheck.questionnaire.problems import to_problems
from vendorcheck.questionnaire.schema import QUESTIONNAIRE
from vendorcheck.questionnaire.yamlload import YamlDoc, parse_yaml, read_yaml


def load_questionnaire(path: Path | str, *, datasets: Mapping[str, CountryGroups] | None = None,
                       file: str | None = None) -> Questionnaire:
    """Load, check and compile a questionnaire file; raise QuestionnaireError on any problem."""
    doc = read_yaml(Path(path), file or str(path))
    return _from_doc(doc, datasets or {})


def load_questionnaire_text(text: str, *, datasets: Mapping[str, CountryGroups] | None = None,
                            file: str = "<text>") -> Questionnaire:
    """Load a questionnaire from YAML text (tests, previews)."""
    return _from_doc(parse_yaml(text.encode("utf-8"), file), datasets or {})


def _from_doc(doc: YamlDoc, datasets: Mapping[str, CountryGroups]) -> Questionnaire:
    """Validate the document's shape, then build it."""
    try:
        data = QUESTIONNAIRE.load(doc.data)
    except ValidationError as exc:
        raise QuestionnaireError(to_problems(doc, exc.messages)) from None
    except RecursionError:
        raise fail(doc.file, "nesting too deep") from None
    return build_questionnaire(doc, data, datasets)
