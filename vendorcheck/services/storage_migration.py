"""Copy every stored file the database points to from one store to another, checking each SHA-256.

Files keep their keys, so no row changes: once the copy is complete, switching STORAGE_BACKEND is enough.
A copy is idempotent: a file already in the target with the right digest is left alone, so a second run
copies only what changed since (see docs/storage.md for the order of steps on a live server).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import select

from vendorcheck.extensions import db
from vendorcheck.models.assessments import Evidence
from vendorcheck.models.dpa import DpaPdf
from vendorcheck.models.dpa_relations import DpaAcceptance
from vendorcheck.models.packs import PackJob
from vendorcheck.models.remediation import RemediationEvent
from vendorcheck.models.reports import StoredReport
from vendorcheck.storage import Area, FileMissing, InvalidKey, Store, check_key


class Reference(NamedTuple):
    """A stored file a row points to: its area, key and the SHA-256 the row recorded (None: not kept)."""

    area: Area
    key: str
    sha256: str | None


class Outcome(StrEnum):
    """What happened to one file."""

    COPIED = "copied"  # (or would be, in a dry run) and verified in the target
    PRESENT = "already there"  # the target already holds it with the right digest
    MISSING = "missing"  # not in the source store
    CORRUPT = "digest mismatch"  # the source's bytes differ from the digest in the database: not copied
    INVALID = "invalid key"  # the row holds something the store never hands out


PROBLEMS = (Outcome.MISSING, Outcome.CORRUPT, Outcome.INVALID)


class Report(NamedTuple):
    """Counts per (area, outcome), and the problems by area and key."""

    counts: Counter[tuple[Area, Outcome]]
    problems: list[tuple[Reference, Outcome]]

    def total(self, outcome: Outcome) -> int:
        """Return how many files had this outcome, in every area."""
        return sum(n for (_area, seen), n in self.counts.items() if seen is outcome)


# The columns that hold storage keys, with the SHA-256 recorded beside each (and the order to read them).
COLUMNS = (
    (Area.EVIDENCE, Evidence.storage_key, Evidence.sha256, Evidence.id),
    (Area.EVIDENCE, RemediationEvent.storage_key, RemediationEvent.sha256, RemediationEvent.id),
    (Area.REPORTS, StoredReport.storage_key, StoredReport.sha256, StoredReport.id),
    (Area.PACKS, PackJob.storage_key, PackJob.sha256, PackJob.id),
    (Area.DPA, DpaPdf.storage_key, DpaPdf.sha256, DpaPdf.id),
    (Area.CERTIFICATES, DpaAcceptance.certificate_storage_key, DpaAcceptance.certificate_sha256,
     DpaAcceptance.id),
)


def references() -> Iterator[Reference]:
    """Yield every stored file a row points to: evidence (answers' and remediation's), reports, packs,
    DPA PDFs, certificates."""
    for area, key, digest, order in COLUMNS:
        query = select(key, digest).where(key.is_not(None)).order_by(order)
        for stored_key, sha256 in db.session.execute(query):
            if stored_key is not None:  # the query leaves none out; this tells the type checker
                yield Reference(area, stored_key, sha256)


def migrate(source: Store, target: Store, *, dry_run: bool = False,
            progress: Callable[[Reference, Outcome], None] | None = None) -> Report:
    """Copy every referenced file from `source` to `target` under the same key; return what happened."""
    report = Report(Counter(), [])
    for ref in list(references()):  # read the rows first: copying can take long
        outcome = copy_one(ref, source, target, dry_run=dry_run)
        report.counts[(ref.area, outcome)] += 1
        if outcome in PROBLEMS:
            report.problems.append((ref, outcome))
        if progress:
            progress(ref, outcome)
    return report


def copy_one(ref: Reference, source: Store, target: Store, *, dry_run: bool = False) -> Outcome:
    """Copy one file unless the target has it already; the copy is re-read and checked in the target."""
    try:
        check_key(ref.area, ref.key)
    except InvalidKey:
        return Outcome.INVALID
    try:
        expected = ref.sha256 or source.sha256(ref.area, ref.key)
    except FileMissing:
        return Outcome.MISSING
    if _digest(target, ref) == expected:
        return Outcome.PRESENT
    if dry_run:
        return _checked_in_place(source, ref, expected)
    try:
        with source.open(ref.area, ref.key) as stream:
            written = target.put(ref.area, ref.key, stream)
    except FileMissing:
        return Outcome.MISSING
    if written.sha256 != expected or _digest(target, ref) != expected:
        target.delete(ref.area, ref.key)  # never leave wrong bytes under a key the database trusts
        return Outcome.CORRUPT
    return Outcome.COPIED


def _checked_in_place(source: Store, ref: Reference, expected: str) -> Outcome:
    """Return what a real run would do with a file of the source, reading it but writing nothing."""
    digest = _digest(source, ref)
    if digest is None:
        return Outcome.MISSING
    return Outcome.COPIED if digest == expected else Outcome.CORRUPT


def _digest(store: Store, ref: Reference) -> str | None:
    """Return the SHA-256 of a stored file, None if it is absent."""
    try:
        return store.sha256(ref.area, ref.key)
    except FileMissing:
        return None
