"""The building blocks of the file format's schemas: scalar fields, options, bands, and the keys every
item has. Item types (`itemtypes/`) add their own keys on top of `ItemBase`.

Every scalar arrives as a string (the strict loader keeps them so); these fields turn them into
numbers, booleans and dates where the format expects them. Cross-references are checked later.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
LOCALE_RE = re.compile(r"^[a-z]{2}$")
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
REF_RE = re.compile(r"^[a-z][a-z0-9_-]*:\S+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FILE_KINDS = ("pdf", "png", "jpeg", "docx", "xlsx", "txt", "csv")


class Quick:
    """A field that skips marshmallow's validation pass when it has no validator to run.

    marshmallow builds an empty `And` of the field's validators for every value it loads; a load
    of the shipped files meets tens of thousands of values (about a fifth of the schema's time).
    """

    validators: list[Any]

    def _validate(self, value: Any) -> None:
        if self.validators:
            super()._validate(value)  # type: ignore[misc]


class Text(Quick, fields.String):
    """fields.String, skipping an empty validation pass."""


class Raw(Quick, fields.Raw):
    """fields.Raw, skipping an empty validation pass."""


class List(Quick, fields.List):  # type: ignore[type-arg]
    """fields.List, skipping an empty validation pass."""


class Dict(Quick, fields.Dict):
    """fields.Dict, skipping an empty validation pass."""


class Nested(Quick, fields.Nested):
    """fields.Nested, skipping an empty validation pass."""


class Strict(Schema):
    """Base schema: unknown keys are errors."""

    class Meta:
        unknown = RAISE


class Id(Quick, fields.String):
    """An id or choice value: `^[a-z][a-z0-9_]{0,62}$`."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = str(super()._deserialize(value, attr, data, **kwargs))
        if not ID_RE.match(text):
            raise ValidationError(f"'{text}' is not a valid id (a-z, 0-9 and _, starting "
                                  "with a letter)")
        return text


class Num(Quick, fields.Field):  # type: ignore[type-arg]
    """A finite number written as digits; integral values become int."""

    def __init__(self, *, integer: bool = False, minimum: float | None = None,
                 maximum: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.integer = integer
        self.minimum = minimum
        self.maximum = maximum

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int | float:
        number = to_number(value)
        if number is None:
            raise ValidationError(f"'{value}' is not a number")
        if self.integer and not isinstance(number, int):
            raise ValidationError(f"'{value}' is not a whole number")
        if self.minimum is not None and number < self.minimum:
            raise ValidationError(f"must be at least {self.minimum:g}")
        if self.maximum is not None and number > self.maximum:
            raise ValidationError(f"must be at most {self.maximum:g}")
        return number


def _fits_a_float(value: int | float) -> bool:
    """Whether a number is finite and within a float's range (a JSON integer can have 400 digits)."""
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond ±1.8e308: no float holds it
        return False


def to_number(value: Any) -> int | float | None:
    """Convert `12`, `"12"` or `"12.5"` to a finite int or float; None when impossible."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not NUMBER_RE.match(text) or len(text) > 30:
            return None
        value = float(text) if "." in text else int(text)
    if not isinstance(value, (int, float)) or not _fits_a_float(value):
        return None
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


class Bool(Quick, fields.Field):  # type: ignore[type-arg]
    """`true` or `false` only (no YAML 1.1 yes/no/on/off)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return bool(value == "true")
        raise ValidationError(f"'{value}' is not true or false")


class IsoDate(Quick, fields.Field):  # type: ignore[type-arg]
    """A `YYYY-MM-DD` date."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date:
        if isinstance(value, date):
            return value
        if isinstance(value, str) and DATE_RE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValidationError(f"'{value}' is not a date (YYYY-MM-DD)")


class LocaleMap(Quick, fields.Field):  # type: ignore[type-arg]
    """A locale map `{en: ..., fr: ...}` (or a bare string when there is one locale)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return value
        if not isinstance(value, Mapping):
            raise ValidationError("expected a locale map such as {en: ..., fr: ...}")
        for key, text in value.items():
            if not LOCALE_RE.match(key):
                raise ValidationError(f"'{key}' is not a locale code")
            if not isinstance(text, str) or not text.strip():
                raise ValidationError(f"'{key}' must be a non-empty text")
        return dict(value)


class Expr(Quick, fields.String):
    """An expression string (parsed and checked later)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = str(super()._deserialize(value, attr, data, **kwargs))
        if not text.strip():
            raise ValidationError("empty expression")
        return text


class BoolOrExpr(Quick, fields.Field):  # type: ignore[type-arg]
    """`true`, `false` or an expression string."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool | str:
        if isinstance(value, bool) or value in ("true", "false"):
            return value is True or value == "true"
        if isinstance(value, str) and value.strip():
            return value
        raise ValidationError("expected true, false or an expression")


class Refs(Quick, fields.List):  # type: ignore[type-arg]
    """A list of `prefix:reference` strings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Text(validate=validate.Regexp(
            REF_RE, error="'{input}' is not a reference such as 'gdpr:28.3.a'")), **kwargs)


def ids(**kwargs: Any) -> fields.List:  # type: ignore[type-arg]
    """A list of ids."""
    return List(Id(), **kwargs)


class OptionSchema(Strict):
    """`{value, label, points?, help?}`."""

    value = Id(required=True)
    label = LocaleMap(required=True)
    points = Num(load_default=0)
    help = LocaleMap()


class OptionsField(Quick, fields.Field):  # type: ignore[type-arg]
    """Either an inline option list or the id of an option set."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            if not ID_RE.match(value):
                raise ValidationError(f"'{value}' is not an option set id")
            return value
        if not isinstance(value, list) or not value:
            raise ValidationError("expected a list of options or an option set id")
        return OPTION_LIST.load(value)


class BandSchema(Strict):
    """`{max, points}` or `{min, points}`."""

    points = Num(required=True, minimum=0)
    max = Num()
    min = Num()


class EvidenceSchema(Strict):
    """Upload settings."""

    accept = List(Text(validate=validate.OneOf(FILE_KINDS)))
    max_mb = Num(minimum=0)
    expected = Bool()
    label = LocaleMap()


class JustificationSchema(Strict):
    """`{when, label}`."""

    when = Expr(required=True)
    label = LocaleMap()


class ItemBase(Strict):
    """Keys every item has."""

    id = Id(required=True)
    type = Text(required=True)
    label = LocaleMap()
    help = LocaleMap()
    refs = Refs()
    required = BoolOrExpr()
    visible_if = Expr()
    category = Id()
    weight = Num(minimum=0)
    evidence = Nested(EvidenceSchema)
    justification = Nested(JustificationSchema)
    export = Text(validate=validate.Regexp(r"^[a-z][a-z0-9_.]*$"))
    tags = List(Text())



OPTION_LIST = OptionSchema(many=True)
