"""Validate and normalise an answer set against a questionnaire."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Invalid, clean_text and is_blank are the answer checks' vocabulary; services use them too.
from vendorcheck.questionnaire.model import Invalid, Questionnaire, clean_text, is_blank


@dataclass(frozen=True)
class AnswerProblem:
    """One invalid answer."""

    item: str
    message: str

    def __str__(self) -> str:
        return f"{self.item}: {self.message}"


@dataclass
class AnswerValidation:
    """Normalised answers (blanks dropped) and the problems found."""

    answers: dict[str, object] = field(default_factory=dict)
    problems: list[AnswerProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return whether no problem was found."""
        return not self.problems

    def report(self, where: str, message: str) -> None:
        """Record a problem found inside an answer (a table cell)."""
        self.problems.append(AnswerProblem(where, message))


def validate_answers(q: Questionnaire, raw: Mapping[str, object]) -> AnswerValidation:
    """Validate every answer; blanks are dropped, hidden answers are kept (drafts keep them)."""
    result = AnswerValidation()
    if not isinstance(raw, Mapping):
        result.problems.append(AnswerProblem("", "answers must be an object of item ids"))
        return result
    report = result.report  # one bound method for the whole loop, not one per answer
    by_id = q.plan.by_id  # (type, item): a yes/no check never reads the item itself
    for key, value in raw.items():
        found = by_id.get(key) if isinstance(key, str) else None
        if found is None:
            result.problems.append(AnswerProblem(str(key), f"unknown item '{key}'"))
            continue
        if is_blank(value):
            continue
        kind, item = found
        try:
            result.answers[key] = kind.check(item, value, report)
        except Invalid as exc:
            result.problems.append(AnswerProblem(key, str(exc)))
    return result


__all__ = ["AnswerProblem", "AnswerValidation", "Invalid", "clean_text", "is_blank",
           "validate_answers"]
