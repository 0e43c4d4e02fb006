"""The condition language: `parser` (text → AST), `checker` (types → closures), `evaluator` (run time).

Expressions are parsed once at load, checked against the items, then compiled to closures, so
evaluating a rule is a few function calls and never touches the parser again. The language is
described in docs/questionnaire-format.md, and why it is our own in
docs/decisions/0001-own-expression-language.md.
"""
