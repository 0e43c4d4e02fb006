"""Vendor forms: the section form built at run time from the questionnaire, attestation, copy."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from vendorcheck.forms import (
    BaseForm,
    ConfirmForm,  # noqa: F401 - shared confirmation form
    options,
)
from vendorcheck.i18n import country_name
from vendorcheck.questionnaire import Item, Section
from vendorcheck.questionnaire.countries import ISO_3166_ALPHA2
from vendorcheck.services.errors import ValidationFailed

MAX_TABLE_ROWS = 500


def locale() -> str:
    """Return the active locale code."""
    return str(get_locale() or "en")


def text(value: Any, default: str = "") -> str:
    """Return a LocaleText in the active locale."""
    return value.get(locale()) if value is not None else default


def _sort_key(label: str) -> str:
    """Return a key that sorts names alphabetically whatever their accents (Égypte next to Espagne)."""
    return unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().casefold()


def choices_of(item: Item) -> list[tuple[str, str]]:
    """Return (value, label) choices of a choice item, N/A last when allowed."""
    source = item.kind.widget.choices
    if source == "words":
        pairs = [("yes", str(_l("Yes"))), ("no", str(_l("No")))]
    elif source == "countries":
        # Names in the user's language, sorted by name; the stored value stays the ISO code.
        named = [(c, f"{country_name(c)} ({c})") for c in ISO_3166_ALPHA2]
        pairs = sorted(named, key=lambda pair: _sort_key(pair[1]))
        # Then the international organisations of the pinned dataset, labelled as such.
        pairs += [(o.code, str(_l("International organisation: %(name)s", name=o.name.get(locale()))))
                  for o in item.organisations]
    else:
        pairs = [(o.value, text(o.label, o.value)) for o in item.options]
    if item.na_allowed:
        pairs.append(("na", str(_l("Not applicable"))))
    return pairs


def _field(item: Item) -> Any:
    """Return the unbound WTForms field the item type's widget asks for."""
    widget = item.kind.widget
    kwargs: dict[str, Any] = {"label": text(item.label, item.id), "description": text(item.help)}
    if widget.field == "radio":
        return RadioField(choices=options(choices_of(item)), validate_choice=False, **kwargs)
    if widget.field == "select":
        return SelectField(choices=options([("", "—"), *choices_of(item)]), validate_choice=False, **kwargs)
    if widget.field == "checkboxes":
        return SelectMultipleField(choices=options(choices_of(item)), validate_choice=False, **kwargs)
    if widget.field == "textarea":
        return TextAreaField(**kwargs)
    return StringField(render_kw=dict(widget.attrs), **kwargs)


def has_field(item: Item) -> bool:
    """Return whether the item is a form field (tables and attestations are read raw)."""
    return item.kind.widget.field is not None


def build_section_form(section: Section, formdata: MultiDict[str, Any] | None,
                       data: dict[str, Any]) -> BaseForm:
    """Build the section's form class (one field per item, named after the item id)."""
    attrs: dict[str, Any] = {}
    for item in section.items:
        if has_field(item):
            attrs[item.id] = _field(item)
        if item.justification is not None:
            attrs[f"{item.id}__justification"] = TextAreaField(
                text(item.justification.label, str(_l("Justification"))))
        if item.kind.typed:
            attrs[f"{item.id}__version"] = HiddenField()
    form_class = type("SectionForm", (BaseForm,), attrs)
    return form_class(formdata=formdata, data=data)


def table_rows(item: Item, formdata: MultiDict[str, Any]) -> list[dict[str, Any]]:
    """Read a table's rows from `<id>-<row>-<column>` inputs (rows removed or added handled)."""
    try:
        count = min(int(formdata.get(f"{item.id}-rows", "0")), MAX_TABLE_ROWS + 1)
    except ValueError:
        count = 0
    rows = []
    for index in range(count):
        row: dict[str, Any] = {}
        for col in item.columns:
            name = f"{item.id}-{index}-{col.id}"
            row[col.id] = (formdata.getlist(name) if col.kind.widget.reader == "list"
                           else formdata.get(name, ""))
        rows.append(row)
    remove = formdata.get("remove_row", "")
    if remove.startswith(f"{item.id}-"):
        index = remove.rsplit("-", 1)[-1]
        if index.isdigit() and int(index) < len(rows):
            rows.pop(int(index))
    if formdata.get("add_row") == item.id:
        rows.append({})
    return rows


def non_blank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop rows where every cell is blank."""
    return [r for r in rows if any(v not in (None, "", []) for v in r.values())]


def attestation_value(item: Item, formdata: MultiDict[str, Any]) -> dict[str, Any] | None:
    """Read an attestation item from `<id>-agreed/name/role` inputs."""
    agreed = formdata.get(f"{item.id}-agreed") == "true"
    name, role = formdata.get(f"{item.id}-name", ""), formdata.get(f"{item.id}-role", "")
    if not (agreed or name or role):
        return None
    return {"agreed": agreed, "name": name, "role": role}


def section_values(section: Section, form: BaseForm, formdata: MultiDict[str, Any]
                   ) -> tuple[dict[str, Any], dict[str, str | None], dict[str, object]]:
    """Return (values, justifications, versions as posted) for every answerable item."""
    values: dict[str, Any] = {}
    notes: dict[str, str | None] = {}
    versions: dict[str, object] = {}
    for item in section.items:
        if not item.kind.typed:
            continue
        reader = item.kind.widget.reader
        if reader == "rows":
            values[item.id] = non_blank_rows(table_rows(item, formdata))
        elif reader == "agreement":
            values[item.id] = attestation_value(item, formdata)
        else:
            values[item.id] = form[item.id].data
        if item.justification is not None:
            notes[item.id] = form[f"{item.id}__justification"].data or None
        versions[item.id] = formdata.get(f"{item.id}__version")
    return values, notes, versions


class AttestationForm(BaseForm):
    """Who submits, in which role, with which statement."""

    name = StringField(_l("Your full name"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    role = StringField(_l("Your role"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "organization-title"})
    statement = TextAreaField(_l("Statement"), validators=[DataRequired(), Length(max=5000)],
                              default=_l("I confirm that the answers given are accurate and "
                                         "complete to the best of my knowledge, and that I am "
                                         "authorised to give them on behalf of my organisation."))


class CopyForm(BaseForm):
    """Choose the previous submission to copy answers from."""

    previous_id = RadioField(_l("Copy from"), validators=[DataRequired()], coerce=str,
                             validate_choice=True)


class ClarificationAnswerForm(BaseForm):
    """The vendor's answer to a buyer's question."""

    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(max=5000)])


class LinkCodeForm(BaseForm):
    """The one-time code mailed to a link's contact (sensitive assessments)."""

    code = StringField(_l("Code from the e-mail"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


def evidence_dates(form: Any) -> tuple[date | None, date | None]:
    """Read the optional validity dates posted with an evidence file (ISO dates), or refuse."""
    found: list[date | None] = []
    for name in ("effective_on", "expires_on"):
        text = str(form.get(name) or "").strip()
        try:
            found.append(date.fromisoformat(text) if text else None)
        except ValueError:
            raise ValidationFailed(_l("Give dates as year-month-day, e.g. 2027-03-31.")) from None
    return found[0], found[1]


class SheetUploadForm(BaseForm):
    """The filled spreadsheet to read back (nothing is saved before the preview is applied)."""

    file = FileField(_l("Filled spreadsheet (XLSX)"),
                     validators=[FileRequired(_l("Choose the spreadsheet to upload."))])


class SheetApplyForm(BaseForm):
    """Apply a preview: its signed list of changes."""

    token = HiddenField(validators=[DataRequired()])


class RemediationResponseForm(BaseForm):
    kind = RadioField(_l("Your answer"), choices=options([("fix", _l("We fixed it")),
                                                          ("waiver", _l("We ask you to accept the risk"))]),
                      default="fix", validators=[DataRequired()])
    text = TextAreaField(_l("What was fixed, or why the risk should be accepted"),
                         validators=[Length(max=5000)])
