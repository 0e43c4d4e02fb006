"""Run the golden tests embedded in a questionnaire file."""

from __future__ import annotations

from vendorcheck.questionnaire.answers import validate_answers
from vendorcheck.questionnaire.errors import Problem
from vendorcheck.questionnaire.model import EmbeddedTest, Questionnaire
from vendorcheck.questionnaire.scoring import ScoreResult, score


def run_embedded_tests(q: Questionnaire) -> list[Problem]:
    """Run every embedded test; return one problem per failed expectation."""
    problems = []
    for test in q.tests:
        for message in run_one(q, test):
            problems.append(Problem(q.file, None, test.path, f"test '{test.name}': {message}"))
    return problems


def run_one(q: Questionnaire, test: EmbeddedTest) -> list[str]:
    """Run one test and return what did not match."""
    checked = validate_answers(q, test.answers)
    if checked.problems:
        return [f"answers: {p.item}: {p.message}" for p in checked.problems]
    result = score(q, checked.answers, today=test.today)
    return expectation_failures(test, result)


def expectation_failures(test: EmbeddedTest, result: ScoreResult) -> list[str]:
    """Compare a result with a test's expectations."""
    exp, out = test.expect, []
    found = {f.id for f in result.findings}
    shown = ", ".join(sorted(found)) or "none"
    if exp.tier is not None and result.tier != exp.tier:
        out.append(f"expected tier '{exp.tier}', got '{result.tier}' (score {result.score}, "
                   f"findings: {shown})")
    if exp.findings is not None and found != set(exp.findings):
        out.append(f"expected findings {sorted(exp.findings)}, got {sorted(found)}")
    out += [f"expected finding '{f}' (got: {shown})" for f in exp.findings_include
            if f not in found]
    out += [f"unexpected finding '{f}'" for f in exp.findings_exclude if f in found]
    if exp.score_min is not None and (result.score is None or result.score < exp.score_min):
        out.append(f"expected score ≥ {exp.score_min}, got {result.score}")
    if exp.score_max is not None and (result.score is None or result.score > exp.score_max):
        out.append(f"expected score ≤ {exp.score_max}, got {result.score}")
    if exp.assessed is not None and (result.score is not None) != exp.assessed:
        wanted = "a score" if exp.assessed else "no score (not assessed)"
        out.append(f"expected {wanted}, got {result.score}")
    return out
