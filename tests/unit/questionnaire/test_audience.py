"""A questionnaire's audience: sent by buyers to vendors, or filled in by vendors for themselves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vendorcheck.questionnaire import Questionnaire, QuestionnaireError
from vendorcheck.questionnaire.build import audience_of
from vendorcheck.questionnaire.catalogue import load_catalogue

from .samples import BASE

TITLE = "title: {en: Demo, fr: Démo}"

ROOT = Path(__file__).resolve().parents[3]


def test_default_audience_is_buyer(demo: Questionnaire) -> None:
    assert demo.audience == "buyer" and demo.for_buyers


def test_declared_vendor_audience(make_q: Callable[..., Questionnaire]) -> None:
    q = make_q(BASE.replace(TITLE, TITLE + "\naudience: vendor", 1))
    assert q.audience == "vendor" and not q.for_buyers


def test_unknown_audience_is_refused(make_q: Callable[..., Questionnaire]) -> None:
    with pytest.raises(QuestionnaireError, match="audience"):
        make_q(BASE.replace(TITLE, TITLE + "\naudience: anyone", 1))


def test_audience_derived_from_the_id_when_not_declared() -> None:
    assert audience_of({"id": "dpa-questionnaire"}) == "vendor"
    assert audience_of({"id": "art28-processor-audit"}) == "buyer"
    assert audience_of({"id": "dpa-questionnaire", "audience": "buyer"}) == "buyer"


def test_shipped_dpa_questionnaire_is_for_vendors_only() -> None:
    catalogue = load_catalogue(ROOT / "questionnaires")
    audiences = {q.id: q.audience for q in catalogue.published}
    assert audiences["dpa-questionnaire"] == "vendor"
    assert audiences["art28-processor-audit"] == audiences["b2b-prospecting-crm"] == "buyer"
