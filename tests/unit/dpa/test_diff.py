"""Diffs between versions: sub-processors by normalised name, sections field by field, clauses."""

from __future__ import annotations

from vendorcheck.agreement.assemble import assemble, document_context
from vendorcheck.agreement.diff import (
    clause_changes,
    document_diff,
    normalise_name,
    row_changes,
    subprocessor_changes,
)

OVH = {"name": "OVH SAS", "address": "Roubaix", "country": "FR", "activity": "Hosting",
       "location": "FR", "transfer_tool": None}
MAILER = {"name": "Mailer Inc.", "address": "SF", "country": "US", "activity": "E-mail",
          "location": "US", "transfer_tool": "scc_2021"}


def test_added_removed_changed():
    moved = dict(OVH, name="ovh  sas", location="DE")
    changes = subprocessor_changes([OVH, MAILER], [moved])
    assert changes.added == []
    assert changes.removed == [MAILER]
    assert changes.changed == [(OVH, moved)]
    assert changes.changed_fields(OVH, moved) == ["name", "location"]
    assert not changes.is_empty


def test_same_list_in_another_order_is_empty():
    assert subprocessor_changes([OVH, MAILER], [MAILER, OVH]).is_empty
    assert subprocessor_changes([], []).is_empty
    assert subprocessor_changes([OVH], [dict(OVH, activity=" Hosting ")]).is_empty


def test_names_are_normalised():
    assert normalise_name("  Société  Générale ") == normalise_name("SOCIETE GENERALE")
    assert normalise_name(None) == ""


def test_new_subprocessor_is_added():
    changes = subprocessor_changes([OVH], [OVH, MAILER])
    assert changes.added == [MAILER] and changes.removed == [] and changes.changed == []


def test_document_diff_sections(dpa_q, complete):
    old = assemble(dpa_q, complete)
    complete["breach_notice_hours"] = "12"
    complete["subprocessors"].append(dict(MAILER, contact=""))
    new = assemble(dpa_q, complete)
    diff = document_diff(old, new)
    assert [(c.section, c.key, c.old, c.new) for c in diff.section("clauses")] == [
        ("clauses", "breach_hours", 24, 12),
        ("clauses", "transfers_outside_eea", False, True)]
    assert [r["name"] for r in diff.subprocessors.added] == ["Mailer Inc."]
    assert diff.changed_sections == ["clauses"]
    assert not diff.is_empty and document_diff(old, old).is_empty


def test_a_change_of_kind_shows_every_clause_and_the_template(dpa_q, complete):
    old = assemble(dpa_q, complete, kind="own_words")
    new = assemble(dpa_q, complete, kind="scc_reference")
    diff = document_diff(old, new)
    assert diff.template_changed and (diff.old_template, diff.new_template) == (
        "own-words/v1", "scc-reference/v1")
    clauses = clause_changes(document_context(old, locale="en", q=dpa_q)["sections"],
                             document_context(new, locale="en", q=dpa_q)["sections"])
    kinds = {c.key: c.kind for c in clauses}
    assert kinds["A"] == "added" and kinds["5.6"] == "removed"


def test_clause_and_annex_changes(dpa_q, complete):
    del complete["governing_law"]
    old = document_context(assemble(dpa_q, complete, kind="own_words"), locale="en", q=dpa_q)
    complete["breach_notice_hours"] = "12"
    complete["governing_law"] = "DE"
    complete["retention"] = "Kept 30 days after the end of the contract."
    new = document_context(assemble(dpa_q, complete, kind="own_words"), locale="en", q=dpa_q)
    changes = {c.key: c for c in clause_changes(old["sections"], new["sections"])}
    assert set(changes) == {"7.2", "9"}
    assert changes["9"].kind == "added"
    assert "within 12 hours" in str(changes["7.2"].new[0])
    rows = row_changes(old["annex_processing"], new["annex_processing"])
    assert [(r.key, r.kind) for r in rows] == [("Retention during the processing", "changed")]
