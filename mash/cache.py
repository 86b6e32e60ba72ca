"""The cache in front of Redis, for pages and API calls that must not depend on it."""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# After a failure, this process leaves Redis alone for a while: a hung Redis then costs one
# socket timeout every few seconds, not one on every cache call of every request.
PAUSE_AFTER_FAILURE = 5.0

# Redis location -> monotonic time until which it is skipped; shared by every thread's backend.
_paused_until: dict[str, float] = {}


def _soft(method, fallback):
    """`method`, with Redis down or hung (after the socket timeout in OPTIONS) answering
    `fallback` and a warning in the log instead of an error."""

    def answer(args, kwargs):
        return fallback(*args, **kwargs) if callable(fallback) else fallback

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if time.monotonic() < _paused_until.get(self._location, 0):
            return answer(args, kwargs)
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            _paused_until[self._location] = time.monotonic() + PAUSE_AFTER_FAILURE
            logger.warning(
                "Cache unavailable, %s skipped for %.0f s: %s",
                method.__name__,
                PAUSE_AFTER_FAILURE,
                error,
            )
            return answer(args, kwargs)

    return wrapper


def _missing(key, delta=1, version=None):
    raise ValueError(f"Key {key!r} not counted: the cache is unavailable.")


class SoftRedisCache(RedisCache):
    """Django's Redis cache, except that Redis being down or hung is a miss: reads find
    nothing and writes are dropped, for a few seconds after each failure without asking
    Redis at all. What the app keeps here (the API's request counts for its throttle) is
    worth less than the page that asked for it. `incr` raises ValueError, as for a missing
    key, which the throttle (core.throttling) takes for a call it cannot count."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._location = str(server)

    add = _soft(RedisCache.add, False)
    get = _soft(RedisCache.get, lambda key, default=None, version=None: default)
    set = _soft(RedisCache.set, None)
    touch = _soft(RedisCache.touch, False)
    delete = _soft(RedisCache.delete, False)
    get_many = _soft(RedisCache.get_many, lambda keys, version=None: {})
    has_key = _soft(RedisCache.has_key, False)
    set_many = _soft(RedisCache.set_many, lambda data, *args, **kwargs: list(data))
    delete_many = _soft(RedisCache.delete_many, None)
    clear = _soft(RedisCache.clear, False)
    incr = _soft(RedisCache.incr, _missing)
