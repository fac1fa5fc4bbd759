"""How long one instance's collection may take: the watchdog's limit and django-q2's task timeout.

Both come from the engine's declared bounded round trips and the configured connect, query and
table timeouts, so a server that accepts and then never answers is given up on in bounded time.
"""

from __future__ import annotations

from django.conf import settings

from instances import engines
from instances.choices import DbType
from instances.engines import EngineError
from instances.models import Instance
from sync_sessions import services as lifecycle

TASK_MARGIN_SECONDS = 15


def _fallback_time_limit() -> float:
    # Two bounded round trips (the most any adapter makes) after the connect, plus slack.
    return settings.CAPACITY_CONNECT_TIMEOUT + 2 * settings.CAPACITY_QUERY_TIMEOUT + 15


def tables_wanted(instance: Instance) -> bool:
    """Whether a collection of `instance` reads its tables: its own choice, else CAPACITY_COLLECT_TABLES."""
    choice = getattr(instance, "collect_tables", None)
    return bool(settings.CAPACITY_COLLECT_TABLES if choice is None else choice)


def table_time_limit(db_type: str | None = None) -> float:
    """Seconds the table read adds to an instance's limit: the table budget, plus one query timeout
    for the last query the budget let start (adapters that read tables with the sizes add nothing)."""
    rounds = 0
    if db_type:
        try:
            rounds = engines.engine_class(db_type).table_round_trips
        except EngineError:  # no driver: it fails fast anyway
            return 0.0
    if rounds == 0:
        return 0.0
    if rounds is None:
        return float(settings.CAPACITY_TABLES_BUDGET_SECONDS) + settings.CAPACITY_QUERY_TIMEOUT
    return float(rounds) * settings.CAPACITY_QUERY_TIMEOUT


def instance_time_limit(db_type: str | None = None, tables: bool = False) -> float:
    """How long one instance may take before its attempt is given up on.

    With `tables`, the table read's own allowance (`table_time_limit`) comes on top: the table
    budget is separate from the size collection's.

    The engine derives it from its adapter's declared bounded round trips and the configured
    connect and query timeouts (`instances.engines.engine_time_limit`); without a db_type, the
    longest of all engines. The drivers enforce their timeouts themselves; this is the backstop
    for a driver that does not (a server that accepts and then never answers).
    """
    derive = getattr(engines, "engine_time_limit", None)
    if derive is None:
        return _fallback_time_limit()
    types = [db_type] if db_type else list(DbType.values)
    limits = []
    for t in types:
        try:
            limits.append(float(derive(t)) + (table_time_limit(t) if tables else 0.0))
        except EngineError:  # no driver library for this engine: it fails fast anyway
            continue
    return max(limits) if limits else _fallback_time_limit()


def limit_of(instance: Instance | None) -> float:
    if instance is None:
        return instance_time_limit(None)
    return instance_time_limit(instance.db_type, tables_wanted(instance))


def task_time_limit(db_type: str | None = None, tables: bool = False) -> int:
    """django-q2's per-task timeout for one queued instance: past it the worker process is killed."""
    limit = int(instance_time_limit(db_type, tables) + TASK_MARGIN_SECONDS + lifecycle.heartbeat_seconds())
    return min(limit, int(settings.Q_CLUSTER.get("timeout") or limit))


def task_limit_of(instance: Instance | None) -> int:
    if instance is None:
        return task_time_limit(None)
    return task_time_limit(instance.db_type, tables_wanted(instance))
