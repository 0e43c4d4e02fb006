"""Plain factory functions for tests, one module per area: keyword overrides, commit, return the object.

accounts        organisations, users, memberships, vendors, invitations, password reset tokens
questionnaires  the small vc-test questionnaire; shipped questionnaires and their embedded answer sets
assessments     new_assessment, the builder every assessment goes through, and assessments in each
                state; contacts, clarifications
evidence        stored evidence files, evidence rows without a file, one file of each kind
reports         the reviewed and decided assessment reports and evidence packs are made from
dpa             DPA answer sets, drafts and published versions
dpa_relations   DPA acceptances, objections and subscriptions
world           the two-tenant world of the integration and authorization tests

Fixtures stay in the conftest.py files; servers and keys the tests run against are in tests/support/.
"""
