"""Rate limits live in Redis whenever REDIS_URL is set, so every process and instance shares them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from limits.storage import MemoryStorage, RedisStorage

from tests.conftest import make_config
from vendorcheck import create_app
from vendorcheck.extensions import db, limiter

# Redis is shared by every process on the machine (other workers, other checkouts' runs): these tests never
# empty a database, they count under e-mail addresses no one else uses and delete only their own keys. The
# module still runs on one pytest-xdist worker: the limiter is one object per process, and its Redis
# counters are database 5's.
pytestmark = pytest.mark.xdist_group("redis-db-5")
REDIS_URL = os.environ.get("VENDORCHECK_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
def redis_db() -> Iterator[str]:
    """The test Redis; Redis is part of the test machine, so its absence fails the test."""
    import redis

    conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        conn.ping()
    except redis.RedisError:
        pytest.fail(f"no Redis answers at {REDIS_URL}: start Redis or set VENDORCHECK_TEST_REDIS_URL")
    yield REDIS_URL
    conn.close()


@pytest.fixture
def unique_email(redis_db) -> Iterator[str]:
    """An address no other test or process counts under; its rate-limit keys are deleted afterwards."""
    import redis

    email = f"shared-{uuid.uuid4().hex}@example.com"
    yield email
    conn = redis.Redis.from_url(redis_db)
    for key in conn.scan_iter(match=f"*{email}*"):
        conn.delete(key)
    conn.close()


@pytest.fixture
def instances(app, tmp_path):
    """Build app instances with rate limiting on, like separate processes would; clean up after."""
    made = []

    def _make(**overrides):
        instance = create_app(make_config(
            tmp_path, RATELIMIT_ENABLED=True,
            SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], **overrides))
        made.append(instance)
        return instance

    yield _make
    if isinstance(limiter.storage, MemoryStorage):
        limiter.reset()  # this process's counters; Redis keys are deleted one by one (`unique_email`)
    limiter.enabled = False
    for instance in made:
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()


def _try(instance, email: str) -> int:
    return instance.test_client().post(
        "/auth/login", data={"email": email, "password": "wrong-password-1"}).status_code


def test_redis_url_puts_the_rate_limits_in_redis(instances, redis_db):
    instance = instances(REDIS_URL=redis_db)
    assert instance.config["RATELIMIT_STORAGE_URI"] == redis_db
    with instance.app_context():
        assert isinstance(limiter.storage, RedisStorage)


def test_without_redis_the_limits_are_per_process(instances):
    instance = instances(REDIS_URL=None)
    with instance.app_context():
        assert isinstance(limiter.storage, MemoryStorage)


def test_two_instances_sharing_redis_share_the_limit(instances, redis_db, unique_email):
    import redis

    first = instances(REDIS_URL=redis_db)
    assert [_try(first, unique_email) for _ in range(5)] == [422] * 5
    counters = redis.Redis.from_url(redis_db)
    counted = {key: counters.get(key) for key in counters.scan_iter(match=f"*{unique_email}*")}
    counters.close()
    assert b"5" in counted.values(), counted  # the tries are counted in Redis, not in this process
    second = instances(REDIS_URL=redis_db)  # a fresh limiter storage, as in another process
    assert isinstance(limiter.storage, RedisStorage) and limiter.enabled
    assert _try(second, unique_email) == 429, "the second instance counts the first one's tries"


def test_in_memory_limits_are_not_shared_which_is_why_production_needs_redis(instances):
    first = instances(REDIS_URL=None)
    assert [_try(first, "apart@example.com") for _ in range(5)] == [422] * 5
    second = instances(REDIS_URL=None)
    assert _try(second, "apart@example.com") == 422, "a new process starts from zero"


def test_the_per_address_limit_on_auth_posts_is_a_setting(instances):
    # Different e-mail addresses from one client address: only the per-address limit applies.
    strict = instances(REDIS_URL=None, AUTH_POST_LIMIT_PER_IP="3/minute")
    assert [_try(strict, f"who{n}@example.com") for n in range(4)] == [422, 422, 422, 429]


def test_the_per_address_limit_defaults_to_twenty_a_minute(instances):
    default = instances(REDIS_URL=None)
    assert default.config["AUTH_POST_LIMIT_PER_IP"] == "20/minute"
    assert [_try(default, f"one{n}@example.com") for n in range(21)][-2:] == [422, 429]
