"""The pure questionnaire engine: strict loading, expressions, answers, scoring (no Flask here)."""

from vendorcheck.questionnaire.answers import AnswerProblem, AnswerValidation, validate_answers
from vendorcheck.questionnaire.catalogue import Catalogue, check_catalogue, check_paths, load_catalogue
from vendorcheck.questionnaire.datasets import CountryEntry, CountryGroups, load_dataset
from vendorcheck.questionnaire.errors import Problem, QuestionnaireError
from vendorcheck.questionnaire.evaluate import Visibility, evaluate_visibility
from vendorcheck.questionnaire.expr.parser import ExprError, node_to_json, parse
from vendorcheck.questionnaire.loader import load_questionnaire, load_questionnaire_text
from vendorcheck.questionnaire.model import (
    Category,
    Computed,
    Finding,
    Item,
    LocaleText,
    Option,
    Questionnaire,
    Section,
    Tier,
)
from vendorcheck.questionnaire.scoring import (
    CategoryScore,
    FindingResult,
    ItemScore,
    ScoreResult,
    result_as_json,
    score,
)
from vendorcheck.questionnaire.testing import run_embedded_tests

__all__ = [
    "AnswerProblem", "AnswerValidation", "Catalogue", "Category", "CategoryScore", "Computed",
    "CountryEntry", "CountryGroups", "ExprError", "Finding", "FindingResult", "Item", "ItemScore",
    "LocaleText", "Option", "Problem", "Questionnaire", "QuestionnaireError", "ScoreResult",
    "Section", "Tier", "Visibility", "check_catalogue", "check_paths", "evaluate_visibility",
    "load_catalogue", "load_dataset", "load_questionnaire", "load_questionnaire_text",
    "node_to_json", "parse", "result_as_json", "run_embedded_tests", "score", "validate_answers",
]
