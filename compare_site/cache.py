"""
A Redis cache that fails open: when Redis cannot be reached, the site runs
without it (slower, never down).

Every call of FailOpenRedisCache that meets a Redis error behaves as a miss
(``get`` returns the default, ``add`` and ``delete`` return False, ``set``
does nothing) instead of raising. ``incr`` raises CacheUnavailable, a
ValueError as for a missing key, so callers that count (the booking form's
rate limits) can tell "no counter" from "no cache" and fall back.

After a failure the process stops asking Redis for ``RETRY_SECONDS``: one
request pays the socket timeout (settings: about 100 ms), the following ones
nothing; then a single call tries again. The warning is logged once per
outage, and a line when Redis answers again.

Deletes that failed are invalidations (an editor's change forgetting the
cached pages): they are sent again when Redis answers, so a Redis that was
only unreachable, not emptied, cannot serve pages older than the change.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Failed deletes kept for replay; beyond this the oldest are dropped (and said so).
MAX_PENDING_DELETES = 1000


class CacheUnavailable(ValueError):
    """Raised by ``incr`` when Redis cannot be reached."""


class _Circuit:
    """Whether one Redis is answering, shared by all threads of the process.

    Django gives each thread its own cache object, so the state lives here,
    one per LOCATION, and a dead Redis costs one timeout per process, not per thread.
    """

    def __init__(self, location, retry_seconds):
        self.location = location
        self.retry_seconds = retry_seconds
        self.lock = threading.Lock()
        self.down_since = None  # time.monotonic() of the first failure, None while up
        self.retry_at = 0.0
        self.pending_deletes = {}  # made keys, in order (a dict as an ordered set)

    def may_try(self):
        if self.down_since is None:
            return True
        now = time.monotonic()
        with self.lock:
            if now < self.retry_at:
                return False
            # This caller probes; the others keep skipping until it has an answer.
            self.retry_at = now + self.retry_seconds
            return True

    def failed(self, error, deletes=()):
        now = time.monotonic()
        with self.lock:
            first = self.down_since is None
            if first:
                self.down_since = now
            self.retry_at = now + self.retry_seconds
        if first:
            logger.warning(
                "Cache unavailable (%s: %s); serving without it, next try in %s s.",
                type(error).__name__,
                error,
                self.retry_seconds,
            )
        self.remember_deletes(deletes)

    def remember_deletes(self, keys):
        """Keep deletes that could not be sent, to send them when Redis is back."""
        if not keys:
            return
        with self.lock:
            for key in keys:
                self.pending_deletes[key] = None
            dropped = len(self.pending_deletes) - MAX_PENDING_DELETES
            for key in list(self.pending_deletes)[: max(dropped, 0)]:
                del self.pending_deletes[key]
        if dropped > 0:
            logger.warning("Cache still unavailable: %d older invalidations dropped.", dropped)

    def recovered(self):
        """Mark the cache up; return the deletes to replay, if it was down."""
        if self.down_since is None:
            return None
        with self.lock:
            if self.down_since is None:
                return None
            seconds = time.monotonic() - self.down_since
            self.down_since = None
            deletes, self.pending_deletes = list(self.pending_deletes), {}
        logger.info(
            "Cache available again after %.1f s; replaying %d invalidations.",
            seconds,
            len(deletes),
        )
        return deletes


_circuits = {}
_circuits_lock = threading.Lock()


def _circuit_for(location, retry_seconds):
    with _circuits_lock:
        if location not in _circuits:
            _circuits[location] = _Circuit(location, retry_seconds)
        return _circuits[location]


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis client, keeping one redis-py client per connection pool.

    Django builds a new ``redis.Redis`` for every cache call, and each copies
    redis-py's table of about 200 response callbacks: a tenth of a booking's
    CPU, and a third of a cached page's. A redis-py client is safe to share
    (its pool hands each command a connection), so one per pool is kept.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client


class FailOpenRedisCache(RedisCache):
    """Django's RedisCache, answering as an empty cache while Redis is unreachable.

    Settings: the usual OPTIONS (passed to redis-py; give short socket
    timeouts), plus ``RETRY_SECONDS`` (default 5) beside them in the cache's
    settings: how long a process skips Redis after a failure.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        # RedisCache's hook for its client class (set in its __init__, not documented).
        self._class = ReusedClientRedisCacheClient
        location = server if isinstance(server, str) else ",".join(server)
        self._circuit = _circuit_for(location, params.get("RETRY_SECONDS", 5))

    def _call(self, fallback, method, *args, deletes=()):
        if not self._circuit.may_try():
            self._circuit.remember_deletes(deletes)
            return fallback
        try:
            result = method(*args)
        except RedisError as error:
            self._circuit.failed(error, deletes)
            return fallback
        replay = self._circuit.recovered()
        if replay:
            try:
                self._cache.delete_many(replay)
            except RedisError as error:
                self._circuit.failed(error, replay)
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        made = self.make_and_validate_key(key, version=version)
        return self._call(False, super().delete, key, version, deletes=[made])

    def get_many(self, keys, version=None):
        return self._call({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        unavailable = object()
        result = self._call(unavailable, super().incr, key, delta, version)
        if result is unavailable:
            raise CacheUnavailable(f"The cache is unavailable: {key!r} was not counted.")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # The keys that were not stored: all of them, when Redis is down.
        return self._call(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        self._call(None, super().delete_many, keys, version, deletes=made)

    def clear(self):
        return self._call(False, super().clear)
