"""Stale results are re-scored by a worker job scheduled on the autosave that made them stale."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from rq.utils import import_attribute
from sqlalchemy import update

from benchmarks.sqlcount import count_queries
from tests.integration import test_vendor_answering as answering
from vendorcheck.extensions import db
from vendorcheck.models.assessments import Assessment
from vendorcheck.services.assessments import results

env = answering.env  # the buyer, vendor and assessment the autosave tests use
_autosave = answering._autosave


class RecordingQueue:
    """Stands in for the RQ queue: records what would be scheduled."""

    def __init__(self) -> None:
        self.scheduled: list[tuple[timedelta, str, tuple[object, ...]]] = []

    def enqueue_in(self, delay: timedelta, name: str, *args: object, **kwargs: object) -> None:
        self.scheduled.append((delay, name, args))


@pytest.fixture
def queue(app, monkeypatch) -> RecordingQueue:
    recorder = RecordingQueue()
    monkeypatch.setitem(app.extensions, "vendorcheck_results_queue", recorder)
    return recorder


def _assessment(app, aid: int) -> Assessment:
    with app.app_context():
        a = db.session.get(Assessment, aid)
        db.session.expunge(a)
        return a


def test_the_save_that_makes_results_stale_schedules_one_rescore(app, client, login_as, env, queue):
    login_as(env.vuser)
    assert _autosave(client, env.a, "has_dpa", "no").status_code == 200
    assert _autosave(client, env.a, "notes", "first").status_code == 200
    assert queue.scheduled == [(timedelta(seconds=results.DEFAULT_RESCORE_DELAY),
                                "vendorcheck.jobs.rescore_assessment", (env.a,))]
    assert _assessment(app, env.a).results_stale  # nothing re-scored inside the vendor's request


def test_the_job_rescores_once_and_a_later_save_schedules_again(app, client, login_as, env, queue):
    login_as(env.vuser)
    assert _autosave(client, env.a, "has_dpa", "no").status_code == 200
    [(_, name, args)] = queue.scheduled
    job = import_attribute(name)  # the name a worker resolves
    with app.app_context():  # a worker's app (jobs.use_app)
        assert job(*args) == "rescored"
    a = _assessment(app, env.a)
    assert not a.results_stale and a.open_findings == 1 and a.tier == "high"
    with app.app_context():
        assert job(*args) == "fresh"
    assert _autosave(client, env.a, "has_dpa", "yes").status_code == 200
    assert len(queue.scheduled) == 2 and _assessment(app, env.a).results_stale


def test_a_job_for_a_deleted_assessment_does_nothing(app):
    with app.app_context():
        assert results.rescore(987654) == "gone"


def test_with_the_queue_down_the_save_rescores_at_once(app, client, login_as, env, monkeypatch):
    class Down:
        def enqueue_in(self, *args: object, **kwargs: object) -> None:
            raise ConnectionError("redis is down")

    monkeypatch.setitem(app.extensions, "vendorcheck_results_queue", Down())
    login_as(env.vuser)
    assert _autosave(client, env.a, "has_dpa", "no").status_code == 200  # the save is kept
    a = _assessment(app, env.a)
    assert not a.results_stale and a.open_findings == 1 and _answers_of(app, env.a) == {"has_dpa": "no"}
    login_as(env.admin)
    assert "being updated" not in client.get("/buyer/assessments").get_data(as_text=True)


def _answers_of(app, aid: int) -> dict[str, object]:
    return answering._answers(app, aid)


@pytest.fixture
def stale_world(app):
    """A buyer with 100 answered assessments (one vendor each), results fresh."""
    from tests.factories.accounts import make_org, make_user, make_vendor
    from tests.factories.assessments import make_assessment
    from tests.factories.questionnaires import COMPLETE

    with app.app_context():
        buyer = make_org("Busy Buyer", slug="busy-buyer")
        admin = make_user("admin@busy.example", org=buyer)
        ids = [make_assessment(buyer, make_vendor(buyer, f"Vendor {n:03d}"), by=admin,
                               answers=COMPLETE).id for n in range(100)]
        return SimpleNamespace(admin=answering._ref(admin), ids=ids)


def _mark_stale(app, ids: list[int]) -> None:
    with app.app_context():
        db.session.execute(update(Assessment).values(results_stale=False))
        db.session.execute(update(Assessment).where(Assessment.id.in_(ids)).values(results_stale=True))
        db.session.commit()


def _dashboard_statements(app, client, view: str = "") -> tuple[int, str]:
    with count_queries(app) as statements:
        response = client.get(f"/buyer/assessments?per_page=100{view}")
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


@pytest.mark.parametrize("view", ["", "&history=1", "&history=1&sort=-score"])
def test_the_dashboard_runs_as_many_statements_whatever_the_number_of_stale_results(
        app, client, login_as, stale_world, queue, view):
    login_as(stale_world.admin)
    _dashboard_statements(app, client, view)  # warm: the session's first request loads more
    counts = []
    for stale in (0, 10, 100):
        _mark_stale(app, stale_world.ids[:stale])
        count, html = _dashboard_statements(app, client, view)
        counts.append(count)
        assert html.count("being updated") == stale  # last scored results, said to be updating
    assert counts[0] == counts[1] == counts[2] <= 8, counts
    assert queue.scheduled == []  # marked stale by hand here: the worker was told by autosaves


def test_without_redis_the_dashboard_rescores_nothing_either(app, client, login_as, stale_world):
    login_as(stale_world.admin)
    _dashboard_statements(app, client)
    counts = []
    for stale in (0, 10, 100):
        _mark_stale(app, stale_world.ids[:stale])
        count, html = _dashboard_statements(app, client)
        counts.append(count)
        assert html.count("being updated") == stale
    assert counts[0] == counts[1] == counts[2] <= 8, counts
    for deep in ("page=10", "page=10&sort=-score", "status=in_progress&page=3"):  # an empty page: +1
        with count_queries(app) as statements:
            assert client.get(f"/buyer/assessments?per_page=10&{deep}").status_code == 200
        assert len(statements) <= 8, (deep, len(statements))


def test_without_redis_the_save_queues_the_rescore_in_the_process(app, client, login_as, env):
    login_as(env.vuser)
    assert _autosave(client, env.a, "has_dpa", "no").status_code == 200
    assert _autosave(client, env.a, "notes", "first").status_code == 200
    with app.app_context():
        queue = results.local_queue()
        assert queue.pending() == [env.a]  # debounced: one re-score for the burst of saves
    assert _assessment(app, env.a).results_stale  # nothing re-scored inside the vendor's requests
    with app.app_context():
        assert results.drain_rescores() == 1 and queue.pending() == []
    a = _assessment(app, env.a)
    assert not a.results_stale and a.open_findings == 1 and a.tier == "high"


def test_the_process_queue_thread_rescores_after_the_delay_and_stops_cleanly(app, env):
    from vendorcheck.services.assessments.local_queue import LocalRescoreQueue

    with app.app_context():
        db.session.execute(update(Assessment).where(Assessment.id == env.a).values(results_stale=True))
        db.session.commit()
    done = threading.Event()

    def run(assessment_id: int) -> str:
        outcome = results.rescore(assessment_id)
        done.set()
        return outcome

    queue = LocalRescoreQueue(app, run, threaded=True)
    queue.enqueue_in(timedelta(seconds=0.05), results.RESCORE_JOB, env.a)
    assert done.wait(10), "the thread did not re-score"
    assert not _assessment(app, env.a).results_stale and queue.pending() == []
    queue.enqueue_in(timedelta(hours=1), results.RESCORE_JOB, 987654)  # far off: left waiting
    queue.stop()  # process exit: what waits is run now, in the stopping thread
    assert queue.pending() == []


def test_a_failing_rescore_is_logged_and_the_queue_goes_on(app, monkeypatch):
    from vendorcheck.services.assessments import local_queue
    from vendorcheck.services.assessments.local_queue import LocalRescoreQueue

    logged: list[str] = []
    monkeypatch.setattr(local_queue.log, "exception", lambda message, *args: logged.append(message % args))

    ran: list[int] = []

    def run(assessment_id: int) -> None:
        ran.append(assessment_id)
        if assessment_id == 1:
            raise RuntimeError("database away")

    queue = LocalRescoreQueue(app, run, threaded=False)
    for aid in (1, 2):
        queue.enqueue_in(timedelta(0), results.RESCORE_JOB, aid)
    assert queue.drain() == 2 and ran == [1, 2]
    assert logged == ["in-process re-score of assessment 1 failed"]


def test_the_rescore_is_scheduled_on_rq_by_name(app, client, login_as, env, monkeypatch):
    from fakeredis import FakeRedis
    from rq import Queue

    rq_queue = Queue(results.QUEUE, connection=FakeRedis())
    monkeypatch.setitem(app.extensions, "vendorcheck_results_queue", rq_queue)
    login_as(env.vuser)
    assert _autosave(client, env.a, "has_dpa", "no").status_code == 200
    [job_id] = rq_queue.scheduled_job_registry.get_job_ids()
    job = rq_queue.fetch_job(job_id)
    assert job.func_name == "vendorcheck.jobs.rescore_assessment" and job.args == (env.a,)
