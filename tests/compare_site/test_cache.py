"""The Redis cache fails open: a dead or hanging Redis is an empty cache, quickly.

Against real sockets: a closed port (refused at once), a socket that accepts
and never answers (each call would wait for the socket timeout), and a real
redis-server that is killed and started again.
"""

import logging
import time

import pytest
import redis

from compare_site import cache as fail_open
from compare_site.cache import CacheUnavailable, FailOpenRedisCache
from tests.factories import PASSWORD, make_comparison
from tests.support.faults import closed_port, fail_open_cache


@pytest.fixture(autouse=True)
def fresh_circuits(monkeypatch):
    monkeypatch.setattr(fail_open, "_circuits", {})


def backend(location, retry_seconds=5):
    params = fail_open_cache(location, retry_seconds)["default"]
    return FailOpenRedisCache(params["LOCATION"], params)


def outage_warnings(caplog):
    return [r for r in caplog.records if r.getMessage().startswith("Cache unavailable")]


def test_a_closed_port_is_an_empty_cache_that_never_raises(caplog):
    cache = backend(f"redis://127.0.0.1:{closed_port()}/0")
    started = time.monotonic()
    assert cache.get("page", "default") == "default"
    assert cache.set("page", "body") is None
    assert cache.add("page", "body") is False
    assert cache.touch("page") is False
    assert cache.delete("page") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("page") is False
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.delete_many(["a", "b"]) is None
    assert cache.get_or_set("page", "computed") == "computed"
    assert cache.clear() is False
    assert time.monotonic() - started < 0.5
    assert len(outage_warnings(caplog)) == 1


def test_incr_says_the_cache_is_unavailable_as_a_value_error():
    cache = backend(f"redis://127.0.0.1:{closed_port()}/0")
    with pytest.raises(CacheUnavailable):
        cache.incr("counter")
    # Code that treats incr's ValueError as "no such counter" keeps working.
    assert issubclass(CacheUnavailable, ValueError)


def test_a_hanging_redis_costs_one_timeout_then_nothing(hanging_socket, caplog):
    cache = backend(f"redis://127.0.0.1:{hanging_socket.port}/0")
    started = time.monotonic()
    assert cache.get("page") is None
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(100):
        assert cache.get("page") is None
        cache.set("page", "body")
    rest = time.monotonic() - started
    # The socket timeout is 100 ms; the bounds are generous for a shared machine.
    assert 0.09 < first < 0.5
    assert rest < 0.1
    assert len(hanging_socket.accepted) == 1, "only the first call went to Redis"
    [warning] = outage_warnings(caplog)
    assert "TimeoutError" in warning.getMessage()


def test_after_the_retry_interval_one_call_tries_again(hanging_socket):
    cache = backend(f"redis://127.0.0.1:{hanging_socket.port}/0", retry_seconds=0.3)
    cache.get("page")
    cache.get("page")
    assert len(hanging_socket.accepted) == 1
    time.sleep(0.35)
    cache.get("page")
    cache.get("page")
    assert len(hanging_socket.accepted) == 2


def test_the_circuit_is_shared_by_every_thread_of_the_process(hanging_socket):
    # Django gives each thread its own cache object.
    location = f"redis://127.0.0.1:{hanging_socket.port}/0"
    first, second = backend(location), backend(location)
    first.get("page")
    started = time.monotonic()
    assert second.get("page") is None
    assert time.monotonic() - started < 0.05
    assert len(hanging_socket.accepted) == 1


def test_a_killed_redis_fails_open_and_its_return_is_used_again(redis_server, caplog):
    caplog.set_level(logging.INFO, logger="compare_site.cache")
    cache = backend(redis_server.url, retry_seconds=0.2)
    cache.set("page", "body")
    assert cache.get("page") == "body"
    redis_server.kill()
    assert cache.get("page") is None
    assert cache.add("other", 1) is False
    # An editor's change forgets the cached pages while Redis is away.
    assert cache.delete("version") is False

    redis_server.start()
    # Redis was only unreachable and kept its data: the old version is still there.
    made = cache.make_and_validate_key("version")
    redis.Redis.from_url(redis_server.url).set(made, b"stale")
    time.sleep(0.25)
    cache.set("page", "fresh")
    assert cache.get("page") == "fresh"
    assert cache.get("version") is None, "the delete that failed was sent again"
    assert len(outage_warnings(caplog)) == 1
    assert any("available again" in r.getMessage() for r in caplog.records)


def test_every_call_shares_one_redis_client_and_its_connections(redis_server):
    """One redis-py client per pool (building one per call was a third of a cached
    page's CPU), and one connection reused across calls, not one per call."""
    cache = backend(redis_server.url)
    for number in range(20):
        cache.set(f"key-{number}", number)
        assert cache.get(f"key-{number}") == number
    writer, reader = (cache._cache.get_client(write=write) for write in (True, False))
    assert writer is reader
    pool = reader.connection_pool
    assert len(pool._available_connections) + len(pool._in_use_connections) == 1


@pytest.mark.django_db
class TestTheSiteWithTheCacheDown:
    """Pages render from the database and the admin works, with Redis on a closed port."""

    def test_home_and_comparison_pages(self, cache_down, client):
        comparison = make_comparison(factors=3, statistics=2)
        assert client.get("/").status_code == 200
        response = client.get(comparison.get_absolute_url())
        assert response.status_code == 200
        assert comparison.quick_verdict in response.content.decode()

    def test_an_editors_change_shows_at_once(self, cache_down, client):
        comparison = make_comparison()
        client.get(comparison.get_absolute_url())
        comparison.quick_verdict = "Changed while the cache was down."
        comparison.save()
        assert (
            "Changed while the cache was down."
            in client.get(comparison.get_absolute_url()).content.decode()
        )

    def test_the_admin_signs_in_and_works(self, cache_down, client, superuser):
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": superuser.username, "password": PASSWORD},
        )
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200
        assert client.get("/admin/comparisons/comparison/").status_code == 200
