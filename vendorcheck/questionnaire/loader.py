"""Load one questionnaire file."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
    with collector_paused():
        doc = read_yaml(Path(path), file or str(path))
        return _from_doc(doc, datasets or {})


def load_questionnaire_text(text: str, *, datasets: Mapping[str, CountryGroups] | None = None,
                            file: str = "<text>") -> Questionnaire:
    """Load a questionnaire from YAML text (tests, previews)."""
    with collector_paused():
        return _from_doc(parse_yaml(text.encode("utf-8"), file), datasets or {})


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a questionnaire is built.

    A load creates tens of thousands of objects that all live on; each automatic collection during
    it walks every one built so far, only to keep them (a quarter of a load's time). Reference
    counting still frees everything meanwhile; cycles left behind are collected once it resumes.
    The collector is resumed only if it was running: a caller that turned it off keeps it off.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def _from_doc(doc: YamlDoc, datasets: Mapping[str, CountryGroups]) -> Questionnaire:
    """Validate the document's shape, then build it."""
    try:
        data = QUESTIONNAIRE.load(doc.data)
    except ValidationError as exc:
        raise QuestionnaireError(to_problems(doc, exc.messages)) from None
    except RecursionError:
        raise fail(doc.file, "nesting too deep") from None
    return build_questionnaire(doc, data, datasets)
