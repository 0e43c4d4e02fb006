"""Problems found while loading or checking questionnaire files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where it is and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        """Format as `file:line: path: message`, leaving out what is unknown."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class QuestionnaireError(Exception):
    """Loading failed; `problems` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid questionnaire")


def fail(file: str, message: str, *, line: int | None = None, path: str = "") -> QuestionnaireError:
    """Build an error holding a single problem."""
    return QuestionnaireError([Problem(file, line, path, message)])
