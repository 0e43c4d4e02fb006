"""Marshmallow schemas for the file format: shapes and scalar types, unknown keys refused.

The scalar fields and the keys every item has are in `schemakeys`; each item type (`itemtypes/`)
adds its own keys. Cross-references are checked later, by the builder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from vendorcheck.questionnaire.itemtypes import REGISTRY, column_types
from vendorcheck.questionnaire.schemakeys import (
    LOCALE_RE,
    Bool,
    Dict,
    Expr,
    Id,
    IsoDate,
    List,
    LocaleMap,
    Nested,
    Num,
    OptionsField,
    Quick,
    Raw,
    Refs,
    Strict,
    Text,
    ids,
)

QID_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
QUESTIONNAIRE_SCHEMA = "vendorcheck/questionnaire@1"
DATASET_SCHEMA = "vendorcheck/country-groups@1"
ENTRY_KINDS = ("country", "international_organisation")
AUDIENCES = ("buyer", "vendor")  # who sends a questionnaire: a buyer to a vendor, or a vendor to itself

# Keys of a question that a table column cannot have (columns are not scored and take no evidence).
_NOT_FOR_COLUMNS = ("category", "weight", "evidence", "justification", "points", "good",
                    "max_points", "bands")
ITEM_SCHEMAS: dict[str, Schema] = {name: kind.schema() for name, kind in REGISTRY.items()}
COLUMN_SCHEMAS: dict[str, Schema] = {
    name: kind.schema(exclude=[f for f in _NOT_FOR_COLUMNS if f in kind.schema._declared_fields])
    for name, kind in column_types().items()
}


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
    if REGISTRY[kind].has_rows:
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


class ItemField(Quick, fields.Field):  # type: ignore[type-arg]
    """An item validated by the schema of its `type`."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
        return load_item(value)


class SectionSchema(Strict):
    id = Id(required=True)
    title = LocaleMap(required=True)
    help = LocaleMap()
    visible_if = Expr()
    items = List(ItemField(), required=True)


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
    severity = Text(required=True, validate=SEVERITY)
    when = Expr(required=True)
    refs = Refs()
    title = LocaleMap(required=True)
    remediation = LocaleMap()
    due_days = Num(integer=True, minimum=0)


class TierSchema(Strict):
    id = Id(required=True)
    when = Expr(required=True)
    label = LocaleMap()
    floor = Text(validate=SEVERITY)  # a finding this severe (or worse) puts the tier here at best
    score_max = Num(minimum=0, maximum=100)   # the score shown with this tier never exceeds it


class ScoringSchema(Strict):
    assessed_from = Num(minimum=0, maximum=1)  # completeness below which no score (nor tier) is given


class ExpectSchema(Strict):
    tier = Id()
    findings = ids()
    findings_include = ids()
    findings_exclude = ids()
    score_min = Num()
    score_max = Num()
    assessed = Bool()  # false: the test expects "not assessed" (no score)


class TestSchema(Strict):
    name = Text(required=True)
    today = IsoDate()
    answers = Dict(keys=Text(), values=Raw(), required=True)
    expect = Nested(ExpectSchema, required=True)


class ReferenceSchema(Strict):
    title = LocaleMap(required=True)
    url = Text(validate=validate.Regexp(r"^https?://\S+$"))


class QuestionnaireSchema(Strict):
    """The top level of a questionnaire file."""

    schema = Text(required=True, validate=validate.Equal(
        QUESTIONNAIRE_SCHEMA, error=f"expected '{QUESTIONNAIRE_SCHEMA}'"))
    id = Text(required=True, validate=validate.Regexp(
        QID_RE, error="'{input}' is not a valid questionnaire id"))
    version = Text(required=True, validate=validate.Regexp(
        SEMVER_RE, error="'{input}' is not a MAJOR.MINOR.PATCH version"))
    status = Text(required=True, validate=validate.OneOf(
        ("draft", "published", "retired")))
    default_locale = Text(required=True, validate=validate.Regexp(LOCALE_RE))
    locales = List(Text(validate=validate.Regexp(LOCALE_RE)), required=True,
                          validate=validate.Length(min=1))
    title = LocaleMap(required=True)
    audience = Text(validate=validate.OneOf(AUDIENCES))
    description = LocaleMap()
    intro = LocaleMap()
    effective_date = IsoDate()
    review_by = IsoDate()
    reference_data = List(Text(validate=validate.Regexp(
        r"^[a-z_]+@\d{4}-\d{2}-\d{2}$", error="'{input}' is not like country_groups@2026-01-28")))
    references = Dict(keys=Id(), values=Nested(ReferenceSchema))
    option_sets = Dict(keys=Id(), values=OptionsField())
    categories = List(Nested(CategorySchema))
    sections = List(Nested(SectionSchema), required=True,
                           validate=validate.Length(min=1))
    computed = List(Nested(ComputedSchema))
    findings = List(Nested(FindingSchema))
    tiers = List(Nested(TierSchema))
    scoring = Nested(ScoringSchema)
    tests = List(Nested(TestSchema))


class EntrySchema(Strict):
    """One country of the country-groups dataset."""

    code = Text(required=True)
    group = Text(required=True, validate=validate.OneOf(
        ("eea", "adequate", "adequate_partial", "third_country")))
    kind = Text(validate=validate.OneOf(ENTRY_KINDS))  # default: country
    name = LocaleMap()  # a bare English name, or {en, fr} (required for an organisation)
    decision = Text()
    decision_date = IsoDate()
    valid_until = IsoDate()  # the last day the decision applies (a sunset clause), if any
    url = Text(validate=validate.Regexp(r"^https?://\S+$"))
    condition = LocaleMap()
    note = LocaleMap()


class GroupSchema(Strict):
    """A group's label."""

    label = LocaleMap(required=True)


class DatasetSchema(Strict):
    """The top level of a country-groups dataset file."""

    schema = Text(required=True, validate=validate.Equal(
        DATASET_SCHEMA, error=f"expected '{DATASET_SCHEMA}'"))
    id = Text(required=True, validate=validate.Equal("country_groups"))
    version = IsoDate(required=True)
    effective_date = IsoDate()
    review_by = IsoDate()
    title = LocaleMap()
    source = Text()
    groups = Dict(keys=Text(validate=validate.OneOf(
        ("eea", "adequate", "adequate_partial", "third_country"))),
        values=Nested(GroupSchema))
    entries = List(Nested(EntrySchema), required=True)


QUESTIONNAIRE = QuestionnaireSchema()
DATASET = DatasetSchema()
