"""The catalogue: every questionnaire version and dataset under a folder, checked together."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vendorcheck.questionnaire.datasets import CountryGroups, load_dataset
from vendorcheck.questionnaire.errors import Problem, QuestionnaireError
from vendorcheck.questionnaire.loader import load_questionnaire
from vendorcheck.questionnaire.model import Questionnaire
from vendorcheck.questionnaire.testing import run_embedded_tests

LOCK_NAME = "published.lock"
DATASET_DIR = Path("reference") / "country_groups"
LOCK_LINE = re.compile(r"^(\S+)\s+(\S+)\s+([0-9a-f]{64})$")


def semver_key(version: str) -> tuple[int, ...]:
    """Sort key for MAJOR.MINOR.PATCH."""
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


@dataclass(frozen=True)
class Catalogue:
    """All loaded questionnaires (sorted by id, then version) and datasets."""

    questionnaires: list[Questionnaire]
    datasets: Mapping[str, CountryGroups] = field(default_factory=dict)

    def versions(self, qid: str) -> list[str]:
        """Return the versions of a questionnaire, oldest first."""
        return [q.version for q in self.questionnaires if q.id == qid]

    def get(self, qid: str, version: str | None = None) -> Questionnaire:
        """Return a version, or the latest published one; KeyError if there is none."""
        matches = [q for q in self.questionnaires if q.id == qid]
        if version is not None:
            matches = [q for q in matches if q.version == version]
        else:
            matches = [q for q in matches if q.status == "published"]
        if not matches:
            raise KeyError(f"{qid}@{version}" if version else qid)
        return matches[-1]

    @property
    def published(self) -> list[Questionnaire]:
        """Return the latest published version of each questionnaire."""
        ids = sorted({q.id for q in self.questionnaires if q.status == "published"})
        return [self.get(qid) for qid in ids]


def _rel(path: Path, root: Path) -> str:
    """Name a file relative to the root when possible (no machine paths in messages)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_lock(root: Path) -> tuple[dict[tuple[str, str], str], list[Problem]]:
    """Read `published.lock`: one `<id> <version> <sha256>` per line, `#` comments."""
    lock_path = root / LOCK_NAME
    if not lock_path.exists():
        return {}, []
    entries, problems = {}, []
    for number, line in enumerate(lock_path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        match = LOCK_LINE.match(text)
        if match is None:
            problems.append(Problem(LOCK_NAME, number, "", "expected '<id> <version> <sha256>'"))
            continue
        entries[(match[1], match[2])] = match[3]
    return entries, problems


def load_datasets(root: Path) -> tuple[dict[str, CountryGroups], list[Problem]]:
    """Load every dataset under `reference/country_groups/`."""
    out, problems = {}, []
    for path in sorted((root / DATASET_DIR).glob("*.yaml")):
        try:
            dataset = load_dataset(path, _rel(path, root))
        except QuestionnaireError as exc:
            problems.extend(exc.problems)
            continue
        if dataset.version != path.stem:
            problems.append(Problem(_rel(path, root), None, "version",
                                    f"version '{dataset.version}' does not match the file name"))
        out[dataset.key] = dataset
    return out, problems


def questionnaire_files(root: Path) -> list[Path]:
    """List `<id>/<version>.yaml` files, leaving out the reference data."""
    return sorted(p for p in root.glob("*/*.yaml") if p.parent.name != "reference")


def check_one(path: Path, root: Path, datasets: Mapping[str, CountryGroups],
              lock: Mapping[tuple[str, str], str]) -> tuple[Questionnaire | None, list[Problem]]:
    """Load one questionnaire and check its file name and lock entry."""
    name = _rel(path, root)
    try:
        q = load_questionnaire(path, datasets=datasets, file=name)
    except QuestionnaireError as exc:
        return None, exc.problems
    problems = []
    if (path.parent.name, path.stem) != (q.id, q.version):
        problems.append(Problem(name, None, "", f"file should be {q.id}/{q.version}.yaml"))
    expected = lock.get((q.id, q.version))
    if expected is not None and expected != q.sha256:
        problems.append(Problem(name, None, "", f"{q.id} v{q.version} changed after publication "
                                f"(sha256 {q.sha256}, {LOCK_NAME} has {expected})"))
    return q, problems


def load_catalogue(root: Path) -> Catalogue:
    """Load every file under `root`; raise one QuestionnaireError listing all problems."""
    root = Path(root)
    datasets, problems = load_datasets(root)
    lock, lock_problems = read_lock(root)
    problems += lock_problems
    loaded = []
    for path in questionnaire_files(root):
        q, found = check_one(path, root, datasets, lock)
        problems += found
        if q is not None:
            loaded.append(q)
    problems += _missing_locked(lock, loaded)
    if problems:
        raise QuestionnaireError(problems)
    loaded.sort(key=lambda q: (q.id, semver_key(q.version)))
    return Catalogue(loaded, datasets)


def _missing_locked(lock: Mapping[tuple[str, str], str], loaded: list[Questionnaire]
                    ) -> list[Problem]:
    """A version listed in the lock must still exist."""
    present = {(q.id, q.version) for q in loaded}
    return [Problem(LOCK_NAME, None, "", f"{qid} v{version} is published but its file is missing")
            for (qid, version) in lock if (qid, version) not in present]


def check_paths(paths: Iterable[Path], root: Path) -> list[Problem]:
    """Load the given files or folders, check them and run their embedded tests."""
    return _check_files(_expand(paths, root), Path(root))[0]


def check_catalogue(root: Path) -> list[Problem]:
    """Check every file under `root` as `check_paths` does, then the lock: each file is loaded once.

    When every file is valid, a published version missing from the lock (its wording must be frozen)
    and a locked version whose file is gone are problems too.
    """
    root = Path(root)
    problems, loaded, lock = _check_files(questionnaire_files(root), root)
    if problems:
        return problems
    return _missing_locked(lock, loaded) + unlocked_published(lock, loaded)


def unlocked_published(lock: Mapping[tuple[str, str], str], loaded: Iterable[Questionnaire]
                       ) -> list[Problem]:
    """Name every published version missing from the lock."""
    return [Problem(LOCK_NAME, None, f"{q.id} {q.version}",
                    "published but not locked: run `vendorcheck questionnaires lock`")
            for q in sorted(loaded, key=lambda q: (q.id, semver_key(q.version)))
            if q.status == "published" and (q.id, q.version) not in lock]


def _check_files(files: Iterable[Path], root: Path
                 ) -> tuple[list[Problem], list[Questionnaire], dict[tuple[str, str], str]]:
    """Load and check each file once and run its embedded tests; return problems, loaded, lock."""
    datasets, problems = load_datasets(root)
    lock, lock_problems = read_lock(root)
    problems += lock_problems
    loaded = []
    for path in files:
        if DATASET_DIR.as_posix() in path.as_posix():
            continue  # datasets were loaded above
        q, found = check_one(path, root, datasets, lock)
        problems += found
        if q is not None:
            loaded.append(q)
            if not found:
                problems += run_embedded_tests(q)
    return problems, loaded, lock


def _expand(paths: Iterable[Path], root: Path) -> list[Path]:
    """Turn files and folders into a sorted list of questionnaire files."""
    out: set[Path] = set()
    for path in map(Path, paths):
        if path.is_dir():
            found = questionnaire_files(path) if path.resolve() == root.resolve() else \
                [p for p in path.rglob("*.yaml")]
            out.update(found)
        else:
            out.add(path)
    return sorted(out)
