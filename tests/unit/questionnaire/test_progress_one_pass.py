"""An autosave's progress and completeness, counted in one pass, equal the full computation.

`progress_and_completeness` replaces `overall_progress(section_progress(...))` and
`completeness(...)[0]` on every autosave; here both are compared on the shipped questionnaires
(and a table questionnaire) over many seeded random sequences of single-item saves, each
evaluated from scratch as a full re-score would.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vendorcheck.questionnaire import Questionnaire, load_catalogue
from vendorcheck.questionnaire.evaluate import evaluate_visibility, moves_progress
from vendorcheck.questionnaire.scoring import completeness, score
from vendorcheck.services.assessments.reading import (
    overall_progress,
    progress_and_completeness,
    section_progress,
)

from .test_js_conditions import SHIPPED, TODAY, Draw, answer_sets

ROOT = Path(__file__).resolve().parents[3]
SEQUENCES, SAVES = 40, 60


def _full(q: Questionnaire, answers: dict[str, Any]) -> tuple[int, float]:
    """Progress and completeness as a full re-score computes them (`refresh_results`)."""
    result = score(q, answers, today=TODAY)
    return overall_progress(section_progress(q, result.visibility)), result.completeness


def _one_pass(q: Questionnaire, answers: dict[str, Any]) -> tuple[int, float]:
    return progress_and_completeness(q, evaluate_visibility(q, answers, today=TODAY))


def _save_sequences(q: Questionnaire, seed: int) -> list[list[dict[str, Any]]]:
    """Random sequences of saves: each step sets, changes or clears one item's answer."""
    rng = random.Random(seed)
    draw = Draw(q, rng)
    items = [i for i in q.items if i.kind.typed]
    sequences = []
    for _ in range(SEQUENCES):
        answers: dict[str, Any] = {}
        states = []
        for _ in range(SAVES):
            item = rng.choice(items)
            if rng.random() < 0.15:
                answers.pop(item.id, None)
            else:
                answers[item.id] = draw.value(item)
            states.append(dict(answers))
        sequences.append(states)
    return sequences


@pytest.mark.parametrize("qid", SHIPPED)
def test_one_pass_equals_the_full_computation_over_random_save_sequences(qid: str) -> None:
    q = load_catalogue(ROOT / "questionnaires").get(qid, "1.0.0")
    checked = 0
    for states in _save_sequences(q, seed=18):
        for answers in states:
            assert _one_pass(q, answers) == _full(q, answers), answers
            checked += 1
    for answers in answer_sets(q, seed=7):  # embedded tests' answers, mutated and random sets
        assert _one_pass(q, answers) == _full(q, answers), answers
        checked += 1
    assert checked > SEQUENCES * SAVES


def test_one_pass_equals_the_full_computation_with_tables(make_q: Callable[..., Questionnaire]
                                                           ) -> None:
    """The demo questionnaire: a table shown by a rule, required cells shown by a rule, optional
    questions, a note."""
    q = make_q()
    for states in _save_sequences(q, seed=5):
        for answers in states:
            assert _one_pass(q, answers) == _full(q, answers), answers


def test_one_pass_counts_as_the_two_functions_on_a_known_case(make_q: Callable[..., Questionnaire]
                                                               ) -> None:
    q = make_q()
    vis = evaluate_visibility(q, {"has_dpa": "yes", "uses_sub": "yes", "subs": [{"name": "A"}],
                                  "notes": "x"}, today=TODAY)
    assert progress_and_completeness(q, vis) == (overall_progress(section_progress(q, vis)),
                                                 completeness(q, vis)[0])
    # required: has_dpa, audits, uses_sub and the table shown by it (a row without its country is
    # not an answer): 2 of 4; progress also counts the optional notes once answered: 3 of 5
    assert progress_and_completeness(q, vis) == (60, 0.5)
    assert progress_and_completeness(q, evaluate_visibility(q, {}, today=TODAY)) == (0, 0.0)


def _skips_checked(q: Questionnaire, seed: int) -> tuple[int, int]:
    """Replay random single-item saves; wherever `moves_progress` says a save cannot move the
    counts, check they are unchanged. Return (saves it let skip, saves it made recount)."""
    rng = random.Random(seed)
    draw = Draw(q, rng)
    items = [i for i in q.items if i.kind.typed]
    skipped = recounted = 0
    for _ in range(SEQUENCES):
        answers: dict[str, Any] = {}
        before = _one_pass(q, answers)
        for _ in range(SAVES):
            item = rng.choice(items)
            old = answers.get(item.id)
            new = None if rng.random() < 0.15 else draw.value(item)
            answers = {**answers, item.id: new} if new is not None else {
                k: v for k, v in answers.items() if k != item.id}
            after = _one_pass(q, answers)
            if moves_progress(q, item.id, old, new):
                recounted += 1
            else:
                assert after == before, (item.id, old, new)
                skipped += 1
            before = after
    return skipped, recounted


@pytest.mark.parametrize("qid", SHIPPED)
def test_a_save_said_not_to_move_progress_leaves_it_as_it_was(qid: str) -> None:
    """The autosave stores no new progress when `moves_progress` says no: the counts must not move."""
    q = load_catalogue(ROOT / "questionnaires").get(qid, "1.0.0")
    skipped, recounted = _skips_checked(q, seed=11)
    assert skipped > 100 and recounted > 100, (skipped, recounted)  # both paths were taken


def test_a_table_or_a_rule_input_always_recounts(make_q: Callable[..., Questionnaire]) -> None:
    q = make_q()
    assert q.plan.rule_inputs >= {"uses_sub"}  # the table `subs` is shown by it
    assert moves_progress(q, "uses_sub", "yes", "no")  # read by a rule: answered both times
    assert moves_progress(q, "subs", [{"name": "A"}], [{"name": "A", "country": "FR"}])  # rows
    assert not moves_progress(q, "notes", "first", "second")  # answered before and after
    assert moves_progress(q, "notes", "first", "")  # an empty text is no answer
    assert not moves_progress(q, "notes", None, "")
    skipped, recounted = _skips_checked(q, seed=3)
    assert skipped > 50 and recounted > 50, (skipped, recounted)


def test_a_table_recounts_even_when_no_rule_reads_it(make_q: Callable[..., Questionnaire]) -> None:
    """Filling a row's required cell makes a table answered although it had rows before and after:
    a table always recounts, whether or not a rule reads it."""
    q = make_q()
    unread = replace(q, plan=replace(q.plan, rule_inputs=q.plan.rule_inputs - {"subs"}))
    old, new = [{"name": "A"}], [{"name": "A", "country": "FR"}]
    base = {"has_dpa": "yes", "uses_sub": "yes"}
    assert _one_pass(q, {**base, "subs": old}) != _one_pass(q, {**base, "subs": new})
    assert moves_progress(unread, "subs", old, new)
