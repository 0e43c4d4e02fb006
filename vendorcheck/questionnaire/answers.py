"""Validate and normalise an answer set against a questionnaire."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from vendorcheck.questionnaire.countries import ISO_3166_ALPHA2
from vendorcheck.questionnaire.model import Item, Questionnaire
from vendorcheck.questionnaire.schemakeys import DATE_RE, to_number

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
EVIDENCE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ALLOWED_CONTROLS = frozenset("\n\r\t")
MAX_ROWS_CAP = 500


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


class Invalid(Exception):
    """An answer is not acceptable; the message says why."""


def is_blank(value: object) -> bool:
    """Return whether a value means "no answer"."""
    if isinstance(value, str):
        return value.strip() == ""
    return value is None or (isinstance(value, (list, tuple, dict)) and len(value) == 0)


def clean_text(value: object, max_length: int) -> str:
    """Check a text: a string, no control characters or lone surrogates, not too long."""
    if not isinstance(value, str):
        raise Invalid("must be a text")
    for char in value:
        if "\ud800" <= char <= "\udfff":
            raise Invalid("invalid Unicode")
        if unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROLS:
            raise Invalid("invalid control character")
    if len(value) > max_length:
        raise Invalid(f"max {max_length:,} characters")
    return value


def _fmt(number: float | int | None) -> str:
    return "" if number is None else f"{number:g}"


def check_number(item: Item, value: object) -> int | float:
    """Check a finite number within the item's bounds."""
    number = to_number(value)
    low, high = item.min, item.max
    if low is not None and high is not None:
        message = f"must be a finite number between {_fmt(low)} and {_fmt(high)}"
    elif low is not None:
        message = f"must be a finite number ≥ {_fmt(low)}"
    elif high is not None:
        message = f"must be a finite number ≤ {_fmt(high)}"
    else:
        message = "must be a finite number"
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        raise Invalid(message)
    if item.integer and not isinstance(number, int):
        raise Invalid("must be a whole number")
    return number


def check_choice(item: Item, value: object) -> str:
    """Check a yes/no or single-choice value."""
    allowed = ["yes", "no"] if item.type == "yes_no" else [o.value for o in item.options]
    if item.na_allowed:
        allowed.append("na")
    if not isinstance(value, str) or value not in allowed:
        shown = value if isinstance(value, str) else repr(value)
        raise Invalid(f"'{shown}' is not one of {', '.join(allowed)}")
    return value


def _string_list(value: object) -> list[str]:
    """Accept a list of strings (or one string, as a one-element list)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise Invalid("must be a list of texts")
    if len(set(value)) != len(value):
        raise Invalid("a value is repeated")
    return list(value)


def check_multi(item: Item, value: object) -> list[str]:
    """Check a multi-choice selection: known values, exclusive, min and max."""
    chosen = _string_list(value)
    allowed = [o.value for o in item.options]
    for v in chosen:
        if v not in allowed:
            raise Invalid(f"'{v}' is not one of {', '.join(allowed)}")
    for v in item.exclusive:
        if v in chosen and len(chosen) > 1:
            raise Invalid(f"'{v}' must be chosen alone")
    _check_count(item, len(chosen))
    return chosen


def _check_count(item: Item, count: int) -> None:
    """Check min_selected / max_selected."""
    if item.min_selected is not None and count < item.min_selected:
        raise Invalid(f"choose at least {item.min_selected}")
    if item.max_selected is not None and count > item.max_selected:
        raise Invalid(f"choose at most {item.max_selected}")


def check_country(item: Item, value: object) -> str:
    """Check an ISO 3166-1 alpha-2 code, or an organisation code the pinned dataset lists."""
    if isinstance(value, str) and (value in ISO_3166_ALPHA2
                                   or any(o.code == value for o in item.organisations)):
        return value
    also = " nor a listed international organisation" if item.organisations else ""
    raise Invalid(f"'{value}' is not an ISO 3166-1 alpha-2 country code{also}")


def check_country_list(item: Item, value: object) -> list[str]:
    """Check a list of country codes."""
    codes = _string_list(value)
    for code in codes:
        check_country(item, code)
    _check_count(item, len(codes))
    return codes


def check_date(item: Item, value: object) -> str:
    """Check a YYYY-MM-DD date within the item's bounds."""
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise Invalid("must be a date (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid("must be a date (YYYY-MM-DD)") from None
    if item.min_date is not None and day < item.min_date:
        raise Invalid(f"must be on or after {item.min_date.isoformat()}")
    if item.max_date is not None and day > item.max_date:
        raise Invalid(f"must be on or before {item.max_date.isoformat()}")
    return value


def check_email(item: Item, value: object) -> str:
    """Check the shape of an e-mail address."""
    text = clean_text(value, 254).strip()
    if not EMAIL_RE.match(text):
        raise Invalid("must be an e-mail address")
    return text


def check_url(item: Item, value: object) -> str:
    """Check an http(s) URL."""
    text = clean_text(value, 2000).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        raise Invalid("must be an http:// or https:// address")
    return text


def check_files(item: Item, value: object) -> list[str]:
    """Check a list of stored evidence ids."""
    ids = _string_list(value)
    if any(not EVIDENCE_ID_RE.match(i) for i in ids):
        raise Invalid("unknown evidence id")
    if len(ids) > (item.max_files or 20):
        raise Invalid(f"at most {item.max_files or 20} files")
    return ids


def check_attestation(item: Item, value: object) -> dict[str, object]:
    """Check `{agreed: true, name, role}`."""
    if not isinstance(value, Mapping):
        raise Invalid("must be {agreed, name, role}")
    extra = set(value) - {"agreed", "name", "role"}
    if extra:
        raise Invalid(f"unknown field '{sorted(extra)[0]}'")
    if value.get("agreed") not in (True, "true"):
        raise Invalid("must be agreed")
    name, role = value.get("name"), value.get("role")
    if is_blank(name) or is_blank(role):
        raise Invalid("name and role are required")
    return {"agreed": True, "name": clean_text(name, 200).strip(),
            "role": clean_text(role, 200).strip()}


def check_text(item: Item, value: object) -> str:
    """Check a short or long text."""
    return clean_text(value, item.max_length or 500)


def check_note(item: Item, value: object) -> object:
    """A note takes no answer."""
    raise Invalid("a note takes no answer")


CHECKS: dict[str, Callable[[Item, object], object]] = {
    "yes_no": check_choice, "single_choice": check_choice, "multi_choice": check_multi,
    "text": check_text, "long_text": check_text, "number": check_number, "date": check_date,
    "country": check_country, "country_list": check_country_list, "email": check_email,
    "url": check_url, "file": check_files, "attestation": check_attestation, "note": check_note,
}


def check_table(item: Item, value: object,
                problems: list[AnswerProblem]) -> list[dict[str, object]]:
    """Check each row; problems are named `table[row].column`."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, Mapping) for r in value):
        raise Invalid("must be a list of rows")
    limit = min(item.max_rows or MAX_ROWS_CAP, MAX_ROWS_CAP)
    if len(value) > limit:
        raise Invalid(f"at most {limit} rows")
    rows = [_check_row(item, index, row, problems) for index, row in enumerate(value)]
    _check_unique(item, rows, problems)
    return rows


def _check_row(item: Item, index: int, row: Mapping[str, object],
               problems: list[AnswerProblem]) -> dict[str, object]:
    """Check one row's cells."""
    columns = {c.id: c for c in item.columns}
    out: dict[str, object] = {}
    for key, cell in row.items():
        where = f"{item.id}[{index}].{key}"
        if key not in columns:
            problems.append(AnswerProblem(where, "unknown column"))
        elif not is_blank(cell):
            try:
                out[key] = CHECKS[columns[key].type](columns[key], cell)
            except Invalid as exc:
                problems.append(AnswerProblem(where, str(exc)))
    return out


def _check_unique(item: Item, rows: list[dict[str, object]],
                  problems: list[AnswerProblem]) -> None:
    """Refuse repeated values in `unique` columns."""
    for col in item.unique:
        seen: set[str] = set()
        for index, row in enumerate(rows):
            if col not in row:
                continue
            key = repr(row[col])
            if key in seen:
                problems.append(AnswerProblem(f"{item.id}[{index}].{col}",
                                              f"duplicate value {row[col]!r}"))
            seen.add(key)


def validate_answers(q: Questionnaire, raw: Mapping[str, object]) -> AnswerValidation:
    """Validate every answer; blanks are dropped, hidden answers are kept (drafts keep them)."""
    result = AnswerValidation()
    if not isinstance(raw, Mapping):
        result.problems.append(AnswerProblem("", "answers must be an object of item ids"))
        return result
    for key, value in raw.items():
        if not isinstance(key, str) or not q.has_item(key):
            result.problems.append(AnswerProblem(str(key), f"unknown item '{key}'"))
            continue
        if is_blank(value):
            continue
        item = q.item(key)
        try:
            if item.type == "table":
                result.answers[key] = check_table(item, value, result.problems)
            else:
                result.answers[key] = CHECKS[item.type](item, value)
        except Invalid as exc:
            result.problems.append(AnswerProblem(key, str(exc)))
    return result
