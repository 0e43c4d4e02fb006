"""Fixtures for the pure DPA modules: the shipped DPA questionnaire and its answer sets."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from vendorcheck.questionnaire import Questionnaire, load_catalogue

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def dpa_q() -> Questionnaire:
    """The shipped dpa-questionnaire (latest version), loaded with its datasets."""
    q: Questionnaire = load_catalogue(ROOT / "questionnaires").get("dpa-questionnaire")
    return q


def answer_set(q: Questionnaire, name: str) -> dict[str, Any]:
    """Return a copy of one embedded test's answers."""
    return copy.deepcopy(dict(next(t for t in q.tests if t.name == name).answers))


@pytest.fixture
def complete(dpa_q: Questionnaire) -> dict[str, Any]:
    """A complete, publishable EU processor."""
    return answer_set(dpa_q, "complete_eu_processor_is_low_risk")
