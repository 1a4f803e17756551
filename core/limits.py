"""Counters for limits (attempts per window), shared by every process, counted atomically.

On Redis (``REDIS_URL``) a counter is a key that ``INCR`` counts and that
expires with its window. Without Redis (the embedded setup) it is a row of
``RateCounter`` counted by one upsert; Django's database and file caches would
read and then write, and two processes counting at once would lose a count.
A window starts at a counter's first count and ends ``window`` seconds later.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db import connection

from core.cache import redis_client
from core.models import RateCounter

_TABLE = RateCounter._meta.db_table


def stored_name(name: str) -> str:
    """The name under which a counter is kept: a digest, since names carry what clients sent (any length, any
    character), and neither a cache key nor the table's column takes that as it is."""
    return f"limit:{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()}"


@dataclass(frozen=True)
class Count:
    """A counter's value after counting, and the seconds left in its window."""

    value: int
    seconds_left: float


def count(name: str, *, window: int, also_read: str = "") -> tuple[Count, int]:
    """Add one to the counter ``name`` and return it, with the value of the counter ``also_read`` (0 if absent).

    On Redis this is one round trip; a limit's whole cost per request.
    """
    client = redis_client()
    if client is None:
        return _count_in_table(stored_name(name), window), (peek(also_read) if also_read else 0)
    backend = caches[DEFAULT_CACHE_ALIAS]
    key = backend.make_and_validate_key(stored_name(name))
    pipeline = client.pipeline(transaction=True)
    # MULTI/EXEC: the counter cannot expire between its start and its increment (it would then never expire).
    pipeline.set(key, 0, ex=window, nx=True)
    pipeline.incr(key)
    pipeline.pttl(key)
    if also_read:
        pipeline.get(backend.make_and_validate_key(stored_name(also_read)))
    replies = pipeline.execute()
    other = int(replies[3] or 0) if also_read else 0
    return Count(int(replies[1]), max(0.0, int(replies[2]) / 1000)), other


def peek(name: str) -> int:
    """The counter's value in its window, without counting (0 when it has none)."""
    client = redis_client()
    if client is None:
        rows = RateCounter.objects.filter(name=stored_name(name), expires_at__gt=time.time())
        return int(rows.values_list("count", flat=True).first() or 0)
    backend = caches[DEFAULT_CACHE_ALIAS]
    return int(client.get(backend.make_and_validate_key(stored_name(name))) or 0)


def seconds_left(name: str) -> float:
    """Seconds until the counter's window ends (0 when it has none)."""
    client = redis_client()
    if client is None:
        expires = RateCounter.objects.filter(name=stored_name(name)).values_list("expires_at", flat=True).first()
        return max(0.0, (expires or 0) - time.time())
    backend = caches[DEFAULT_CACHE_ALIAS]
    return max(0.0, int(client.pttl(backend.make_and_validate_key(stored_name(name)))) / 1000)


def clear(name: str) -> None:
    """Forget the counter (a success may wipe the failures before it)."""
    client = redis_client()
    if client is None:
        RateCounter.objects.filter(name=stored_name(name)).delete()
        return
    client.delete(caches[DEFAULT_CACHE_ALIAS].make_and_validate_key(stored_name(name)))


def _count_in_table(name: str, window: int) -> Count:
    now = time.time()
    # A counter whose window has ended starts again at 1 with a new window; the SET expressions read the row as it
    # was, in SQLite as in PostgreSQL.
    sql = (
        f"INSERT INTO {_TABLE} (name, count, expires_at) VALUES (%s, 1, %s) "  # noqa: S608  # the model's own table
        f"ON CONFLICT (name) DO UPDATE SET "
        f"count = CASE WHEN {_TABLE}.expires_at <= %s THEN 1 ELSE {_TABLE}.count + 1 END, "
        f"expires_at = CASE WHEN {_TABLE}.expires_at <= %s THEN excluded.expires_at ELSE {_TABLE}.expires_at END "
        f"RETURNING count, expires_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [name, now + window, now, now])
        value, expires_at = cursor.fetchone()
    return Count(int(value), max(0.0, float(expires_at) - now))


def sweep_expired() -> int:
    """Delete the counters whose windows ended (the table's housekeeping); returns how many."""
    deleted, _ = RateCounter.objects.filter(expires_at__lte=time.time()).delete()
    return deleted
