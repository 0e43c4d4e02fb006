"""Checks that block publishing a DPA: missing or unlawful terms, each pointing to an item.

A DPA may only be published when it would be lawful under Article 28 GDPR whatever its kind: the
document of either kind states the terms the law requires, so an answer that refuses one of them
(documents instead of audits, deletion without the controller's choice, no deletion certificate,
silence taken as an authorisation...) would make it say what the processor does not do.

Pure: no Flask request, no database. Messages are lazy translations, read in the active locale.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vendorcheck.agreement.assemble import assemble, export_items, needs_transfer_tool
from vendorcheck.agreement.text import LazyText, _l
from vendorcheck.questionnaire import Questionnaire, score

MAX_BREACH_HOURS = 72  # beyond it an outer limit reads as leave to wait (a warning, Art. 33(2))
MIN_SAFEGUARDS = 30    # same threshold as the questionnaire's special_data_without_safeguards rule
MIN_NOTICE_DAYS = 15   # below this, the notice_period_short finding is raised (a warning here)
MIN_MEASURE = 30       # same threshold as the questionnaire's annex2_*_described values
MIN_CONCRETE_WORDS = 3  # a measure names at least this many concrete things (tools, figures, places)
MIN_ACTIVITY = 12      # same threshold as the questionnaire's subprocessor_role_vague finding
MEASURES_SLOT = "dpa.annex_ii."
MIN_OBJECTION_DAYS = 1  # 0 days would leave the controller no time to object (Art. 28(2))
NO_OBJECTION_PERIOD = "no_objection_period"
OBJECTION_SHORTER_THAN_NOTICE = "objection_shorter_than_notice"


def _word_list(text: str) -> frozenset[str]:
    """Return the words of a whitespace-separated list (easier to read and extend than a list)."""
    return frozenset(text.split())


# Words that say nothing about what is actually in place: English and French boilerplate, and the
# small words around it. A measure made only of these (plus fewer than three other words) is
# generic, e.g. "We apply industry-standard security measures at all times".
VAGUE_WORDS = _word_list("""
    a an and are as at be by for from has have in is it of on or our the their to we with all any
    each every its this that these those where when which who will shall may can must not no
    apply applied applies use used uses using implement implemented implements ensure ensures
    do does done according performed carried out
    ensured follow follows followed maintain maintained maintains provide provided provides
    place put keep kept take taken make made set need needed needs required requires require
    appropriate adequate suitable reasonable commercially relevant necessary sufficient proper
    standard standards industry industry-standard best practice practices state art
    state-of-the-art level high strong robust modern secure security safe safety measure measures
    technical organisational organizational policy policies procedure procedures process processes
    control controls data personal information protection protect protected gdpr law laws
    legal compliance compliant comply complies accordance line regard regards times time always
    basis general generally usual usually common commonly accepted recognised recognized
    see website site page document documents request requested available upon described yes n/a
    na none tbd defined service services provider providers solution solutions vendor supplier
    processor processors sub-processor subprocessor processing support various misc other
    le la les un une des de du d l et ou en au aux a pour par sur dans avec sans est sont nous
    notre nos leur leurs ce cette ces qui que selon tout tous toute toutes chaque
    applique appliquons appliquee appliquees utilise utilisons mettons mis mise mises oeuvre
    assure assurons garantit garantissons respecte respectons suivons conforme conformement
    conformes adapte adaptee adaptees appropriee appropriees adequate adequates raisonnable
    raisonnables necessaire necessaires suffisante suffisantes marche standard bonnes pratiques
    pratique etat niveau eleve elevee solide securite securise securisee mesure mesures technique
    techniques organisationnelle organisationnelles politique politiques procedure procedures
    controle controles donnees personnelles caractere protection protegees rgpd loi legale
    legales exigences toujours voir site demande disponible decrit decrites oui aucun aucune
    prestataire prestataires prestation prestations outil outils sous-traitant sous-traitance
    traitement informatique divers autre autres
""")


@dataclass(frozen=True)
class CheckProblem:
    """One thing to fix before publishing: a code, the item to edit and a message."""

    code: str
    item_id: str
    section_id: str
    message: Any  # a lazy string, translated when shown
    row: int | None = None

    @property
    def text(self) -> str:
        """Return the message in the active locale."""
        return str(self.message)


@dataclass(frozen=True)
class CheckResult:
    """Blocking problems and non-blocking warnings of a draft."""

    problems: list[CheckProblem] = field(default_factory=list)
    warnings: list[CheckProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the draft may be published."""
        return not self.problems


def _problem(q: Questionnaire, code: str, item_id: str, message: Any,
             row: int | None = None) -> CheckProblem:
    """Build a problem pointing to an item (and its section)."""
    section = q.item(item_id).section or "" if q.has_item(item_id) else ""
    return CheckProblem(code, item_id, section, message, row)


def _missing(q: Questionnaire, answers: Mapping[str, Any], today: date | None
             ) -> list[CheckProblem]:
    """Return one problem per required, shown, unanswered item."""
    result = score(q, answers, today=today)
    return [_problem(q, "missing_answer", item_id, _l("This question must be answered."))
            for item_id in result.missing_required]


# ------------------------------------------------------------------------------ vague texts

def _plain_words(text: str) -> list[str]:
    """Return the words of a text, case-folded, accents and links removed."""
    text = re.sub(r"https?://\S+", " ", text)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.findall(r"[a-z0-9][a-z0-9./-]*[a-z0-9]|[a-z0-9]", text.replace("'", " "))


def concrete_words(text: str) -> set[str]:
    """Return the words of a text that name something concrete (not boilerplate nor glue)."""
    return {word for word in _plain_words(text)
            if word not in VAGUE_WORDS and (len(word) >= 3 or any(ch.isdigit() for ch in word))}


def is_generic_measure(text: str | None, heading: str = "") -> bool:
    """Tell whether a measure description is too short or too generic for Annex III.

    Words of the heading itself do not count: "Logging is done according to best practices"
    under "Events logging" names nothing concrete.
    """
    clean = (text or "").strip()
    concrete = concrete_words(clean) - concrete_words(heading)
    return len(clean) < MIN_MEASURE or len(concrete) < MIN_CONCRETE_WORDS


def is_vague_activity(text: str | None) -> bool:
    """Tell whether a sub-processor's activity is too vague to describe the processing."""
    clean = (text or "").strip()
    return len(clean) < MIN_ACTIVITY or not concrete_words(clean)


def sentences(*parts: Any) -> LazyText:
    """Join lazy sentences into one message, translated when shown."""
    return LazyText.joined(*parts)


# ----------------------------------------------------------------------- the objection period

def objection_period_problem(objection_days: int | None, notice_days: int | None, *,
                             general: bool) -> str | None:
    """Return what is wrong with an objection period, or None: the one rule for the draft, the
    settings and a proposed change (docs/dpa.md).

    Under a general authorisation the controller must be able to object (Art. 28(2) GDPR): at
    least one day, and at least the notice period, because a change takes effect only once the
    objection period has ended (Clause 7.7). Under specific authorisation nobody objects: each
    controller authorises in writing, so the objection period constrains nothing.
    """
    if not general or objection_days is None:
        return None
    if objection_days < MIN_OBJECTION_DAYS:
        return NO_OBJECTION_PERIOD
    if notice_days is not None and objection_days < notice_days:
        return OBJECTION_SHORTER_THAN_NOTICE
    return None


def objection_period_rule(code: str, *, objection_days: int,
                          notice_days: int | None) -> LazyText:
    """Return the rule an objection period breaks, in the same words wherever it is checked."""
    if code == NO_OBJECTION_PERIOD:
        return _l("Under a general authorisation the objection period must be at least one day, "
                  "or controllers cannot object (Art. 28(2) GDPR).")
    return _l("The objection period (%(objection)d days) is shorter than the notice period of "
              "your DPA (%(notice)d days): a change of sub-processors takes effect only once the "
              "objection period has ended, so controllers must be able to object during the "
              "whole notice period.", objection=objection_days, notice=notice_days or 0)


# What to do when the objection period of the settings does not fit the draft's notice period.
SETTINGS_REMEDY = _l("Lengthen the objection period in the settings, or shorten the notice in "
                     "the draft.")


# --------------------------------------------------------------------------------- sections

def _subprocessor_problems(q: Questionnaire, content: Mapping[str, Any],
                           answers: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of the sub-processor list (Annex IV) and of the transfers it makes."""
    out: list[CheckProblem] = []
    rows = content["subprocessors"]
    if answers.get("uses_subprocessors") == "yes" and not rows:
        out.append(_problem(q, "no_subprocessor_listed", "subprocessors", _l(
            "You answered that you use sub-processors: list each of them.")))
    shared = _shared_activities(rows)
    for index, row in enumerate(rows):
        out += _row_problems(q, row, index, delimit=_key(row.get("activity")) in shared)
    return out


def _key(text: Any) -> str:
    """Return a text reduced to its words, to compare two descriptions."""
    return " ".join(_plain_words(str(text or "")))


def _shared_activities(rows: list[Mapping[str, Any]]) -> set[str]:
    """Return the activities described identically for several sub-processors.

    Annex IV asks for a clear delimitation of responsibilities when several sub-processors are
    authorised: distinct descriptions give it; identical ones need the delimitation column.
    """
    seen: set[str] = set()
    shared: set[str] = set()
    for row in rows:
        key = _key(row.get("activity"))
        if key and key in seen:
            shared.add(key)
        seen.add(key)
    return shared


def _row_problems(q: Questionnaire, row: Mapping[str, Any], index: int, *,
                  delimit: bool) -> list[CheckProblem]:
    """Return the problems of one sub-processor row."""
    out: list[CheckProblem] = []
    name = row.get("name") or f"#{index + 1}"
    if not row.get("activity"):
        out.append(_problem(q, "subprocessor_without_activity", "subprocessors", _l(
            "Sub-processor %(name)s: describe the processing entrusted to it.", name=name), index))
    elif is_vague_activity(row.get("activity")):
        out.append(_problem(q, "subprocessor_activity_vague", "subprocessors", _l(
            "Sub-processor %(name)s: say what it does with the data (for example \"hosting of the "
            "production database\"), not only a word such as \"IT\" or \"hosting\".", name=name),
            index))
    if not row.get("contact"):
        out.append(_problem(q, "subprocessor_without_contact", "subprocessors", _l(
            "Sub-processor %(name)s: give its contact person (name, position and contact details); "
            "the list of sub-processors must identify each of them (EDPB Opinion 22/2024).",
            name=name), index))
    if delimit and not row.get("responsibilities"):
        out.append(_problem(q, "subprocessor_without_delimitation", "subprocessors", _l(
            "Sub-processor %(name)s: another sub-processor has the same description; say which "
            "part of the processing this one carries out and which it does not (delimitation of "
            "responsibilities).", name=name), index))
    out += _tool_problems(q, row, index, name)
    return out


def _tool_problems(q: Questionnaire, row: Mapping[str, Any], index: int,
                   name: str) -> list[CheckProblem]:
    """Return a problem when a sub-processor's transfer has no valid Chapter V tool."""
    group_of = q.country_groups.group_of if q.country_groups is not None else None
    if not needs_transfer_tool(row.get("location"), group_of):
        return []
    tool = row.get("transfer_tool")
    if tool in (None, "none"):
        message = _l("Sub-processor %(name)s processes data outside the EEA without a transfer "
                     "tool (Chapter V GDPR): choose one, or move the processing into the EEA.",
                     name=name)
    elif tool == "art49_derogation":
        message = _l("Sub-processor %(name)s relies on an Article 49 derogation, which covers "
                     "occasional transfers only, never a sub-processor's ongoing processing: put "
                     "an Article 46 tool such as the standard contractual clauses in place.",
                     name=name)
    elif tool == "dpf" and row.get("location") != "US":
        message = _l("Sub-processor %(name)s: the Data Privacy Framework only covers recipients "
                     "in the United States; choose the tool that actually covers this transfer.",
                     name=name)
    else:
        return []
    return [_problem(q, "subprocessor_transfer_without_tool", "subprocessors", message, index)]


def _processing_problems(q: Questionnaire, content: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of the description of processing (Annex II)."""
    out: list[CheckProblem] = []
    p = content["processing"]
    if not p.get("data_categories"):
        out.append(_problem(q, "no_data_categories", "data_categories", _l(
            "List at least one category of personal data.")))
    if not p.get("data_subjects"):
        out.append(_problem(q, "no_data_subjects", "data_subjects", _l(
            "List at least one category of data subjects.")))
    sensitive = bool(p.get("special_categories")) or p.get("criminal_data") == "yes"
    if sensitive and len(p.get("special_safeguards") or "") < MIN_SAFEGUARDS:
        out.append(_problem(q, "sensitive_without_safeguards", "special_safeguards", _l(
            "Sensitive data are declared: describe the restrictions and additional safeguards "
            "applied to them (at least %(n)d characters).", n=MIN_SAFEGUARDS)))
    group_of = q.country_groups.group_of if q.country_groups is not None else None
    abroad = any(needs_transfer_tool(c, group_of) for c in p.get("processing_locations") or [])
    if abroad and p.get("transfer_tool") in (None, "none"):
        out.append(_problem(q, "own_transfer_without_tool", "own_transfer_tool", _l(
            "You store or access data outside the EEA: choose the transfer tool that covers it.")))
    elif abroad and p.get("transfer_tool") == "art49_derogation":
        out.append(_problem(q, "own_transfer_without_tool", "own_transfer_tool", _l(
            "An Article 49 derogation covers occasional transfers only, never your ongoing "
            "processing: choose an Article 46 tool such as the standard contractual clauses.")))
    return out


def _measure_problems(q: Questionnaire, content: Mapping[str, Any]) -> list[CheckProblem]:
    """Return one problem per Annex III heading described too generically to be assessed."""
    measures = content["measures"]
    out: list[CheckProblem] = []
    for slot, item in export_items(q).items():
        key = slot.removeprefix(MEASURES_SLOT)
        if key == slot or item.type != "long_text" or not measures.get(key):
            continue  # unanswered required headings are already "missing_answer"
        heading = " ".join(text for _locale, text in item.label.values) if item.label else ""
        if is_generic_measure(measures[key], heading):
            out.append(_problem(q, "measures_too_generic", item.id, _l(
                "Describe the measures actually in place under this heading (what, with which "
                "tools or settings, how often, where); general statements such as \"industry "
                "standard\" or \"appropriate measures\" do not let the controller assess them "
                "(Art. 28(3)(c) and 32 GDPR).")))
    return out


def _party_problems(q: Questionnaire, content: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of Annex I: the processor must be identified."""
    parties = content["parties"]
    needed = {"processor_name": "processor_legal_name", "processor_address": "processor_address",
              "processor_country": "processor_country", "contact_email": "contact_email"}
    return [_problem(q, "missing_party_details", item_id, _l(
        "The list of parties needs this detail of the processor."))
        for key, item_id in needed.items() if not parties.get(key)]


def _clause_problems(q: Questionnaire, content: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of the commitments Article 28(3) makes mandatory."""
    c = content["clauses"]
    out: list[CheckProblem] = []
    if c.get("breach_hours") is None and c.get("breach_undue_delay") != "yes":
        out.append(_problem(q, "breach_hours", "breach_notice_hours", _l(
            "Commit to notify personal data breaches to the controller without undue delay "
            "(Art. 33(2) GDPR), with an outer limit in hours if you wish.")))
    if c.get("breach_undue_delay") == "no":
        out.append(_problem(q, "breach_undue_delay_refused", "breach_undue_delay", _l(
            "Article 33(2) GDPR requires you to notify the controller without undue delay; a "
            "number of hours can only be an outer limit on top of it.")))
    if c.get("confidentiality") == "no":
        out.append(_problem(q, "no_confidentiality", "staff_confidentiality", _l(
            "Article 28(3)(b) requires everyone processing the data to be bound by "
            "confidentiality.")))
    if content["subprocessors"] and c.get("flow_down") == "no":
        out.append(_problem(q, "no_flow_down", "flow_down", _l(
            "Article 28(4) requires the same obligations to be imposed on every sub-processor.")))
    return out + _end_problems(q, c) + _audit_problems(q, c)


def _end_problems(q: Questionnaire, c: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of the end of the processing: return or deletion, certified (28(3)(g))."""
    out: list[CheckProblem] = []
    end = c.get("end_of_contract")
    if end in (None, "no_commitment"):
        out.append(_problem(q, "no_return_or_deletion", "end_of_contract", _l(
            "Article 28(3)(g) requires a commitment to delete or return the data at the end.")))
    elif end == "delete_only":
        out.append(_problem(q, "deletion_without_choice", "end_of_contract", _l(
            "Article 28(3)(g) leaves the choice between deletion and return to the controller: "
            "offer both.")))
    if c.get("deletion_certificate") == "no":
        out.append(_problem(q, "deletion_not_certified", "deletion_certificate", _l(
            "Certify the deletion to the controller in writing, as Clause 10(d) of the standard "
            "contractual clauses (Decision 2021/915) requires and both documents state.")))
    return out


def _audit_problems(q: Questionnaire, c: Mapping[str, Any]) -> list[CheckProblem]:
    """Return problems of audits: documents may help, never replace them (28(3)(h))."""
    model = c.get("audit_model")
    if model in (None, "no_audit"):
        return [_problem(q, "audit_refused", "audit_model", _l(
            "Article 28(3)(h) requires the processor to allow and contribute to audits."))]
    if model == "documents_only":
        return [_problem(q, "audit_documents_only", "audit_model", _l(
            "Article 28(3)(h) requires audits, including inspections, by the controller or an "
            "auditor it mandates: reports and questionnaires may answer an audit request, not "
            "replace it."))]
    return []


def _objection_period_problems(q: Questionnaire, objection_days: int | None,
                               notice_days: int | None, *, general: bool) -> list[CheckProblem]:
    """Return a problem when the settings' objection period does not fit the draft's notice."""
    code = objection_period_problem(objection_days, notice_days, general=general)
    if code is None or objection_days is None:
        return []
    rule = objection_period_rule(code, objection_days=objection_days, notice_days=notice_days)
    return [_problem(q, code, "notice_days", sentences(rule, SETTINGS_REMEDY))]


def _authorisation_problems(q: Questionnaire, content: Mapping[str, Any],
                            answers: Mapping[str, Any],
                            objection_days: int | None) -> list[CheckProblem]:
    """Return problems of the Article 28(2) terms: notice, objection period, specific requests."""
    c, out = content["clauses"], []
    general = bool(content["subprocessors"]) and c.get("subprocessor_authorisation") == "general"
    days = c.get("notice_days")
    if general and days is None:
        out.append(_problem(q, "notice_days_missing", "notice_days", _l(
            "Give the notice period for sub-processor changes (Art. 28(2) GDPR).")))
    elif general and days == 0:
        out.append(_problem(q, "notice_days_zero", "notice_days", _l(
            "A notice given on the day of the change leaves the controller no time to object "
            "before the sub-processor is engaged (Art. 28(2) GDPR): give a notice period.")))
    else:
        out += _objection_period_problems(q, objection_days, days, general=general)
    specific = answers.get("uses_subprocessors") == "no" or \
        (bool(content["subprocessors"]) and c.get("subprocessor_authorisation") == "specific")
    if specific and c.get("request_days") is None:
        item = "authorisation_request_days" if q.has_item("authorisation_request_days") \
            else "subprocessor_authorisation"
        out.append(_problem(q, "request_days_missing", item, _l(
            "Give how many days before engaging a sub-processor you ask for the controller's "
            "specific authorisation (Clause 7.7, Option 1).")))
    if answers.get("specific_silence_is_consent") == "yes" and specific:
        out.append(_problem(q, "silence_as_authorisation", "specific_silence_is_consent", _l(
            "A specific authorisation must be given in writing: the controller's silence is not "
            "an authorisation (Art. 28(2) GDPR).")))
    if answers.get("engaged_before_authorisation") == "yes" and content["subprocessors"]:
        out.append(_problem(q, "engaged_before_authorisation", "engaged_before_authorisation", _l(
            "No sub-processor may process the controller's data before its authorisation or "
            "before the notice period has run (Art. 28(2) GDPR).")))
    return out


def _warnings(q: Questionnaire, content: Mapping[str, Any]) -> list[CheckProblem]:
    """Return non-blocking remarks worth fixing."""
    c, out = content["clauses"], []
    days = c.get("notice_days")
    if c.get("subprocessor_authorisation") == "general" and days and days < MIN_NOTICE_DAYS:
        out.append(_problem(q, "notice_period_short", "notice_days", _l(
            "A notice period shorter than %(n)d days leaves controllers little time to object.",
            n=MIN_NOTICE_DAYS)))
    hours = c.get("breach_hours")
    if hours is not None and hours > MAX_BREACH_HOURS:
        out.append(_problem(q, "breach_outer_limit_long", "breach_notice_hours", _l(
            "An outer limit above %(max)d hours for breach notices reads as leave to wait; the "
            "documents keep \"without undue delay\", but a shorter limit is expected.",
            max=MAX_BREACH_HOURS)))
    return out


def _dedupe(problems: list[CheckProblem]) -> list[CheckProblem]:
    """Keep the first problem per (item, row, code)."""
    seen: set[tuple[str, int | None, str]] = set()
    out = []
    for problem in problems:
        key = (problem.item_id, problem.row, problem.code)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def check_draft(q: Questionnaire, answers: Mapping[str, Any], *, today: date | None = None,
                objection_days: int | None = None) -> CheckResult:
    """Return what blocks publication of these answers, and the warnings.

    `objection_days` is the profile's objection period; when given, it must fit the notice
    period of a general authorisation (`objection_period_problem`).
    """
    content = assemble(q, answers)
    problems = _missing(q, answers, today)
    answered_missing = {p.item_id for p in problems}
    more = (_party_problems(q, content) + _processing_problems(q, content)
            + _measure_problems(q, content) + _subprocessor_problems(q, content, answers)
            + _clause_problems(q, content)
            + _authorisation_problems(q, content, answers, objection_days))
    # A missing answer already says what to do; do not list the same item twice.
    problems += [p for p in more if p.item_id not in answered_missing or p.row is not None]
    return CheckResult(_dedupe(problems), _warnings(q, content))


__all__ = ["MIN_OBJECTION_DAYS", "NO_OBJECTION_PERIOD", "OBJECTION_SHORTER_THAN_NOTICE",
           "SETTINGS_REMEDY", "CheckProblem", "CheckResult", "check_draft", "concrete_words",
           "is_generic_measure", "is_vague_activity", "objection_period_problem",
           "objection_period_rule", "sentences"]
