"""Assessments: the buyer sends a questionnaire version, the vendor answers and submits, results stay fresh.

The names below are the area's services: views and other services import them from here, and the
modules of the package import each other directly. Where to look:

- `reading`: the pinned questionnaire, the answers, progress, and whether the vendor may still change them
- `results`: the reviewed score, tier and findings cached on the assessment, kept fresh after autosaves
- `sending`: the buyer sends a questionnaire version to the vendor's contacts (mailed or invited)
- `answering`: autosave, section saves, copying earlier answers, evidence files
- `submission`: submitting with an attestation, answering the buyer's clarifications

Each service takes the acting user (`by=`), raises a domain exception and commits once; the e-mails
are composed in `services/notify.py`, the buyer's review in `services/review.py`.
"""

from vendorcheck.services.assessments.answering import (
    AnswerInvalid,
    Conflict,
    Saved,
    SectionInput,
    UnknownItem,
    copy_answers_from,
    save_answer,
    save_section,
    take_save_turn,
)
from vendorcheck.services.assessments.evidence import (
    QuotaExceeded,
    add_evidence,
    clarification_file_rules,
    remove_evidence,
    set_evidence_dates,
)
from vendorcheck.services.assessments.reading import (
    NotEditable,
    answer_rows,
    answers_of,
    is_editable,
    open_clarifications,
    overall_progress,
    previous_submissions,
    questionnaire_of,
    section_progress,
    vendor_assessments,
)
from vendorcheck.services.assessments.results import (
    STILL_OPEN,
    ensure_fresh,
    refresh_results,
    reviewed_of,
)
from vendorcheck.services.assessments.sending import create_sent_assessment, send_assessment
from vendorcheck.services.assessments.submission import (
    MissingAnswers,
    answer_clarification,
    known_signatory,
    missing_items,
    submit_assessment,
)

__all__ = [
    "STILL_OPEN", "AnswerInvalid", "Conflict", "MissingAnswers", "NotEditable", "QuotaExceeded", "Saved",
    "SectionInput",
    "UnknownItem", "add_evidence", "answer_clarification", "clarification_file_rules",
    "answer_rows", "answers_of", "copy_answers_from",
    "create_sent_assessment", "ensure_fresh", "is_editable", "known_signatory", "missing_items",
    "open_clarifications",
    "overall_progress", "previous_submissions", "questionnaire_of", "refresh_results",
    "remove_evidence", "reviewed_of", "save_answer", "save_section", "section_progress",
    "send_assessment", "set_evidence_dates", "submit_assessment", "take_save_turn",
    "vendor_assessments",
]
