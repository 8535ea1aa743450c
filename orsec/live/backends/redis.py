"""Production backend: Redis pub/sub carries the wake-ups between nodes.

* **Publish** (writers, after commit): one ``PUBLISH`` on :data:`CHANNEL` with the topics, from a
  small synchronous connection pool whose size is set explicitly (``max_connections``) and whose
  timeouts are short: if Redis is down the write is already committed and the other nodes'
  hubs find the rows at their next poll, so a failure is logged and swallowed.
* **Listen** (each process's hub): **one** subscription per process (``redis.asyncio``, a pool of
  its own, also sized explicitly), fanned out in memory by the hub to every stream of the
  process. When the subscription breaks, :attr:`healthy` turns false and the hub polls the
  outbox every ``fallback_poll_interval`` seconds until the subscription is back (reconnection
  with capped exponential backoff and jitter).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
import redis.asyncio as aioredis

from orsec.live.backends.base import WakeupBackend
from orsec.live.protocol import jitter

logger = logging.getLogger("orsec.live")

CHANNEL = "orsec:live:wake"


class RedisBackend(WakeupBackend):
    def __init__(
        self,
        url: str,
        *,
        poll_interval: float = 5.0,
        fallback_poll_interval: float = 1.0,
        publish_pool_size: int = 8,
        socket_timeout: float = 0.5,
        **_: object,
    ) -> None:
        if not url:
            raise ValueError("RedisBackend needs a URL (REDIS_URL)")
        self.url = url
        self.poll_interval = poll_interval
        self.fallback_poll_interval = fallback_poll_interval
        self.socket_timeout = socket_timeout
        self._publish_pool = redis.ConnectionPool.from_url(
            url,
            max_connections=publish_pool_size,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
        )
        self._healthy = False
        self._last_publish_error = 0.0
        self.published = 0
        self.received = 0

    # -- writers ----------------------------------------------------------------------------

    def publish(self, topics: list[str]) -> None:
        try:
            client = redis.Redis(connection_pool=self._publish_pool)
            client.publish(CHANNEL, json.dumps(topics))
            self.published += 1
        except (redis.RedisError, OSError):
            now = time.monotonic()
            if now - self._last_publish_error > 10:  # one line per outage, not per write
                logger.warning("live_publish_failed", exc_info=True)
            self._last_publish_error = now

    # -- the hub's subscription ----------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self._healthy

    def current_poll_interval(self) -> float:
        return self.poll_interval if self._healthy else self.fallback_poll_interval

    async def listen(self, wake: Callable[[], None]) -> None:
        backoff = 0.2
        while True:
            pool = aioredis.ConnectionPool.from_url(
                self.url,
                max_connections=2,
                socket_connect_timeout=self.socket_timeout,
                health_check_interval=10,
            )
            client = aioredis.Redis(connection_pool=pool)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self._healthy = True
                backoff = 0.2
                logger.info("live_redis_subscribed")
                wake()  # catch up on whatever was written while unsubscribed
                while True:
                    message: Any = await pubsub.get_message(timeout=5.0)
                    if message is not None:
                        self.received += 1
                        wake()
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError):
                if self._healthy:
                    logger.warning("live_redis_lost", exc_info=True)
                self._healthy = False
                wake()
                await asyncio.sleep(backoff * jitter(0.5, 1.5))
                backoff = min(backoff * 2, 5.0)
            finally:
                self._healthy = False
                try:
                    await pubsub.aclose()
                    await client.aclose()
                    await pool.aclose()
                except (redis.RedisError, OSError, RuntimeError):
                    pass

    def describe(self) -> dict[str, object]:
        return {
            "backend": "redis",
            "healthy": self._healthy,
            "published": self.published,
            "received": self.received,
        }
