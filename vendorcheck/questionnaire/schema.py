"""Marshmallow schemas for the file format: shapes and scalar types, unknown keys refused.

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
QID_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
LOCALE_RE = re.compile(r"^[a-z]{2}$")
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
REF_RE = re.compile(r"^[a-z][a-z0-9_-]*:\S+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FILE_KINDS = ("pdf", "png", "jpeg", "docx", "xlsx", "txt", "csv")
QUESTIONNAIRE_SCHEMA = "vendorcheck/questionnaire@1"
DATASET_SCHEMA = "vendorcheck/country-groups@1"
ENTRY_KINDS = ("country", "international_organisation")


class Strict(Schema):
    """Base schema: unknown keys are errors."""

    class Meta:
        unknown = RAISE


class Id(fields.String):
    """An id or choice value: `^[a-z][a-z0-9_]{0,62}$`."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = str(super()._deserialize(value, attr, data, **kwargs))
        if not ID_RE.match(text):
            raise ValidationError(f"'{text}' is not a valid id (a-z, 0-9 and _, starting "
                                  "with a letter)")
        return text


class Num(fields.Field):  # type: ignore[type-arg]
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


def to_number(value: Any) -> int | float | None:
    """Convert `12`, `"12"` or `"12.5"` to a finite int or float; None when impossible."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not NUMBER_RE.match(text) or len(text) > 30:
            return None
        value = float(text) if "." in text else int(text)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


class Bool(fields.Field):  # type: ignore[type-arg]
    """`true` or `false` only (no YAML 1.1 yes/no/on/off)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return bool(value == "true")
        raise ValidationError(f"'{value}' is not true or false")


class IsoDate(fields.Field):  # type: ignore[type-arg]
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


class LocaleMap(fields.Field):  # type: ignore[type-arg]
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


class Expr(fields.String):
    """An expression string (parsed and checked later)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = str(super()._deserialize(value, attr, data, **kwargs))
        if not text.strip():
            raise ValidationError("empty expression")
        return text


class BoolOrExpr(fields.Field):  # type: ignore[type-arg]
    """`true`, `false` or an expression string."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool | str:
        if isinstance(value, bool) or value in ("true", "false"):
            return value is True or value == "true"
        if isinstance(value, str) and value.strip():
            return value
        raise ValidationError("expected true, false or an expression")


class Refs(fields.List):  # type: ignore[type-arg]
    """A list of `prefix:reference` strings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.String(validate=validate.Regexp(
            REF_RE, error="'{input}' is not a reference such as 'gdpr:28.3.a'")), **kwargs)


def _ids(**kwargs: Any) -> fields.List:  # type: ignore[type-arg]
    """A list of ids."""
    return fields.List(Id(), **kwargs)


class OptionSchema(Strict):
    """`{value, label, points?, help?}`."""

    value = Id(required=True)
    label = LocaleMap(required=True)
    points = Num(load_default=0)
    help = LocaleMap()


class OptionsField(fields.Field):  # type: ignore[type-arg]
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

    accept = fields.List(fields.String(validate=validate.OneOf(FILE_KINDS)))
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
    type = fields.String(required=True)
    label = LocaleMap()
    help = LocaleMap()
    refs = Refs()
    required = BoolOrExpr()
    visible_if = Expr()
    category = Id()
    weight = Num(minimum=0)
    evidence = fields.Nested(EvidenceSchema)
    justification = fields.Nested(JustificationSchema)
    export = fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_.]*$"))
    tags = fields.List(fields.String())


class YesNoSchema(ItemBase):
    na_allowed = Bool()
    good = fields.String(validate=validate.OneOf(("yes", "no")))
    points = Num(minimum=0)


class SingleChoiceSchema(ItemBase):
    options = OptionsField(required=True)
    na_allowed = Bool()


class MultiChoiceSchema(ItemBase):
    options = OptionsField(required=True)
    min_selected = Num(integer=True, minimum=0)
    max_selected = Num(integer=True, minimum=1)
    exclusive = _ids()
    max_points = Num(minimum=0)


class TextSchema(ItemBase):
    max_length = Num(integer=True, minimum=1)


class NumberSchema(ItemBase):
    min = Num()
    max = Num()
    integer = Bool()
    unit = LocaleMap()
    bands = fields.List(fields.Nested(BandSchema))


class DateSchema(ItemBase):
    min = IsoDate()
    max = IsoDate()


class CountryListSchema(ItemBase):
    min_selected = Num(integer=True, minimum=0)


class FileSchema(ItemBase):
    accept = fields.List(fields.String(validate=validate.OneOf(FILE_KINDS)))
    max_mb = Num(minimum=0)
    max_files = Num(integer=True, minimum=1)


class TableSchema(ItemBase):
    columns = fields.List(fields.Raw(), required=True)
    min_rows = Num(integer=True, minimum=0)
    max_rows = Num(integer=True, minimum=1)
    unique = _ids()


class AttestationSchema(ItemBase):
    statement = LocaleMap(required=True)


class NoteSchema(ItemBase):
    body = LocaleMap(required=True)


ITEM_SCHEMAS: dict[str, Schema] = {
    "yes_no": YesNoSchema(), "single_choice": SingleChoiceSchema(),
    "multi_choice": MultiChoiceSchema(), "text": TextSchema(), "long_text": TextSchema(),
    "number": NumberSchema(), "date": DateSchema(), "country": ItemBase(),
    "country_list": CountryListSchema(), "email": ItemBase(), "url": ItemBase(),
    "file": FileSchema(), "table": TableSchema(), "attestation": AttestationSchema(),
    "note": NoteSchema(),
}
_NOT_FOR_COLUMNS = ("category", "weight", "evidence", "justification", "points", "good",
                    "max_points", "bands")
COLUMN_SCHEMAS: dict[str, Schema] = {
    kind: type(schema)(exclude=[f for f in _NOT_FOR_COLUMNS if f in type(schema)._declared_fields])
    for kind, schema in ITEM_SCHEMAS.items()
    if kind not in ("file", "table", "attestation", "note")
}
OPTION_LIST = OptionSchema(many=True)


def load_item(value: Any, *, column: bool = False) -> dict[str, Any]:
    """Validate one item (or table column) with the schema of its type."""
    if not isinstance(value, Mapping):
        raise ValidationError({"_schema": ["expected a mapping"]})
    kind = value.get("type")
    schemas = COLUMN_SCHEMAS if column else ITEM_SCHEMAS
    if kind not in schemas:
        allowed = ", ".join(schemas)
        raise ValidationError({"type": [f"'{kind}' is not one of {allowed}"]})
    loaded: dict[str, Any] = schemas[kind].load(value)
    if kind == "table":
        loaded["columns"] = _load_columns(loaded["columns"])
    return loaded


def _load_columns(columns: list[Any]) -> list[dict[str, Any]]:
    """Validate each column, keeping every column's errors."""
    out, errors = [], {}
    for index, column in enumerate(columns):
        try:
            out.append(load_item(column, column=True))
        except ValidationError as exc:
            errors[index] = exc.messages
    if errors:
        raise ValidationError({"columns": errors})
    return out


class ItemField(fields.Field):  # type: ignore[type-arg]
    """An item validated by the schema of its `type`."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
        return load_item(value)


class SectionSchema(Strict):
    id = Id(required=True)
    title = LocaleMap(required=True)
    help = LocaleMap()
    visible_if = Expr()
    items = fields.List(ItemField(), required=True)


class CategorySchema(Strict):
    id = Id(required=True)
    weight = Num(load_default=1, minimum=0)
    label = LocaleMap(required=True)


class ComputedSchema(Strict):
    id = Id(required=True)
    expr = Expr(required=True)
    category = Id()
    weight = Num(minimum=0)
    points_if_true = Num(minimum=0)
    label = LocaleMap()


SEVERITY = validate.OneOf(("critical", "high", "medium", "low", "info"))


class FindingSchema(Strict):
    id = Id(required=True)
    severity = fields.String(required=True, validate=SEVERITY)
    when = Expr(required=True)
    refs = Refs()
    title = LocaleMap(required=True)
    remediation = LocaleMap()
    due_days = Num(integer=True, minimum=0)


class TierSchema(Strict):
    id = Id(required=True)
    when = Expr(required=True)
    label = LocaleMap()
    floor = fields.String(validate=SEVERITY)  # a finding this severe (or worse) puts the tier here at best
    score_max = Num(minimum=0, maximum=100)   # the score shown with this tier never exceeds it


class ScoringSchema(Strict):
    assessed_from = Num(minimum=0, maximum=1)  # completeness below which no score (nor tier) is given


class ExpectSchema(Strict):
    tier = Id()
    findings = _ids()
    findings_include = _ids()
    findings_exclude = _ids()
    score_min = Num()
    score_max = Num()
    assessed = Bool()  # false: the test expects "not assessed" (no score)


class TestSchema(Strict):
    name = fields.String(required=True)
    today = IsoDate()
    answers = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    expect = fields.Nested(ExpectSchema, required=True)


class ReferenceSchema(Strict):
    title = LocaleMap(required=True)
    url = fields.String(validate=validate.Regexp(r"^https?://\S+$"))


class QuestionnaireSchema(Strict):
    """The top level of a questionnaire file."""

    schema = fields.String(required=True, validate=validate.Equal(
        QUESTIONNAIRE_SCHEMA, error=f"expected '{QUESTIONNAIRE_SCHEMA}'"))
    id = fields.String(required=True, validate=validate.Regexp(
        QID_RE, error="'{input}' is not a valid questionnaire id"))
    version = fields.String(required=True, validate=validate.Regexp(
        SEMVER_RE, error="'{input}' is not a MAJOR.MINOR.PATCH version"))
    status = fields.String(required=True, validate=validate.OneOf(
        ("draft", "published", "retired")))
    default_locale = fields.String(required=True, validate=validate.Regexp(LOCALE_RE))
    locales = fields.List(fields.String(validate=validate.Regexp(LOCALE_RE)), required=True,
                          validate=validate.Length(min=1))
    title = LocaleMap(required=True)
    description = LocaleMap()
    intro = LocaleMap()
    effective_date = IsoDate()
    review_by = IsoDate()
    reference_data = fields.List(fields.String(validate=validate.Regexp(
        r"^[a-z_]+@\d{4}-\d{2}-\d{2}$", error="'{input}' is not like country_groups@2026-01-28")))
    references = fields.Dict(keys=Id(), values=fields.Nested(ReferenceSchema))
    option_sets = fields.Dict(keys=Id(), values=OptionsField())
    categories = fields.List(fields.Nested(CategorySchema))
    sections = fields.List(fields.Nested(SectionSchema), required=True,
                           validate=validate.Length(min=1))
    computed = fields.List(fields.Nested(ComputedSchema))
    findings = fields.List(fields.Nested(FindingSchema))
    tiers = fields.List(fields.Nested(TierSchema))
    scoring = fields.Nested(ScoringSchema)
    tests = fields.List(fields.Nested(TestSchema))


class EntrySchema(Strict):
    """One country of the country-groups dataset."""

    code = fields.String(required=True)
    group = fields.String(required=True, validate=validate.OneOf(
        ("eea", "adequate", "adequate_partial", "third_country")))
    kind = fields.String(validate=validate.OneOf(ENTRY_KINDS))  # default: country
    name = LocaleMap()  # a bare English name, or {en, fr} (required for an organisation)
    decision = fields.String()
    decision_date = IsoDate()
    valid_until = IsoDate()  # the last day the decision applies (a sunset clause), if any
    url = fields.String(validate=validate.Regexp(r"^https?://\S+$"))
    condition = LocaleMap()
    note = LocaleMap()


class GroupSchema(Strict):
    """A group's label."""

    label = LocaleMap(required=True)


class DatasetSchema(Strict):
    """The top level of a country-groups dataset file."""

    schema = fields.String(required=True, validate=validate.Equal(
        DATASET_SCHEMA, error=f"expected '{DATASET_SCHEMA}'"))
    id = fields.String(required=True, validate=validate.Equal("country_groups"))
    version = IsoDate(required=True)
    effective_date = IsoDate()
    review_by = IsoDate()
    title = LocaleMap()
    source = fields.String()
    groups = fields.Dict(keys=fields.String(validate=validate.OneOf(
        ("eea", "adequate", "adequate_partial", "third_country"))),
        values=fields.Nested(GroupSchema))
    entries = fields.List(fields.Nested(EntrySchema), required=True)


QUESTIONNAIRE = QuestionnaireSchema()
DATASET = DatasetSchema()
