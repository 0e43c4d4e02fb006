"""Fixtures for the pure DPA modules: the shipped DPA questionnaire and its answer sets."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from vendorcheck.questionnaire import Questionnaire, load_catalogue

ROOT = Path(__file__).resolve().parents[3]
LEGACY = Path(__file__).parent / "golden" / "legacy"


@pytest.fixture(scope="session")
def dpa_q() -> Questionnaire:
    """The shipped dpa-questionnaire (latest version), loaded with its datasets."""
    q: Questionnaire = load_catalogue(ROOT / "questionnaires").get("dpa-questionnaire")
    return q


@pytest.fixture(scope="session")
def dpa_q_v1() -> Questionnaire:
    """dpa-questionnaire 1.0.0, the version the versions published before document kinds used."""
    q: Questionnaire = load_catalogue(ROOT / "questionnaires").get("dpa-questionnaire", "1.0.0")
    return q


def answer_set(q: Questionnaire, name: str) -> dict[str, Any]:
    """Return a copy of one embedded test's answers."""
    return copy.deepcopy(dict(next(t for t in q.tests if t.name == name).answers))


def legacy_content(name: str = "complete_eu_processor_is_low_risk") -> dict[str, Any]:
    """Return the content of a version published before document kinds existed, as stored."""
    content: dict[str, Any] = json.loads((LEGACY / f"{name}.json").read_text(encoding="utf-8"))
    return content


@pytest.fixture
def complete(dpa_q: Questionnaire) -> dict[str, Any]:
    """A complete, publishable EU processor."""
    return answer_set(dpa_q, "complete_eu_processor_is_low_risk")
