"""Shared helpers: small questionnaires written inline."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from vendorcheck.questionnaire import CountryGroups, Questionnaire, load_dataset, load_questionnaire

from .samples import BASE, DATASET


@pytest.fixture
def datasets(tmp_path: Path) -> dict[str, CountryGroups]:
    """Load the small country-groups dataset."""
    path = tmp_path / "groups.yaml"
    path.write_text(DATASET, encoding="utf-8")
    groups = load_dataset(path)
    return {groups.key: groups}


@pytest.fixture
def make_q(tmp_path: Path, datasets: dict[str, CountryGroups]) -> Callable[..., Questionnaire]:
    """Return a builder writing YAML to a file and loading it."""

    def build(text: str = BASE, name: str = "q.yaml") -> Questionnaire:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return load_questionnaire(path, datasets=datasets)

    return build


@pytest.fixture
def demo(make_q: Callable[..., Questionnaire]) -> Questionnaire:
    """The base demo questionnaire."""
    return make_q()
