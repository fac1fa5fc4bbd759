"""The query count of a whole in-process run is pinned: a fixed cost per instance, whatever its size.

Counted on every platform connection, the worker threads' own included (a wrapper installed on each
connection as it opens), from opening the session to the receivers of `collection_finished`.
"""

import threading

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from capacity.services.collect import collect
from instances.engines import CollectResult, DatabaseSize
from instances.engines.base import BaseEngine
from sync_sessions.choices import SessionStatus

pytestmark = pytest.mark.django_db(transaction=True)


class _SizedEngine(BaseEngine):
    """Answers at once with `databases` databases."""

    databases = 3

    def _open(self):
        return self

    def close(self):
        self._conn = None

    def _server_version(self):
        return "fake"

    def _list_database_sizes(self):
        return CollectResult(
            databases=[
                DatabaseSize(name=f"db{n}", size_bytes=n + 1, data_size_bytes=n + 1) for n in range(self.databases)
            ]
        )


class _Counter:
    def __init__(self):
        self.count = 0
        self.threads = set()
        self.lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        with self.lock:
            self.count += 1
            self.threads.add(threading.get_ident())
        return execute(sql, params, many, context)


@pytest.fixture
def count_run(monkeypatch, make_instance):
    monkeypatch.setattr("instances.engines.engine_class", lambda db_type: _SizedEngine)
    made = iter(range(10_000))

    def run(instances: int, databases: int) -> int:
        _SizedEngine.databases = databases
        targets = [make_instance(f"q{next(made)}", "mysql") for _ in range(instances)]
        counter = _Counter()
        wrappers = []

        def install(sender, connection, **kwargs):
            wrappers.append(connection.execute_wrapper(counter))
            wrappers[-1].__enter__()

        connection_created.connect(install, weak=False, dispatch_uid="count-run-queries")
        try:
            with connection.execute_wrapper(counter):
                session = collect(targets, concurrency=1)
        finally:
            connection_created.disconnect(dispatch_uid="count-run-queries")
        assert session.status == SessionStatus.COMPLETED
        assert len(counter.threads) == 2, "the worker thread's own connection is counted too"
        return counter.count

    return run


def test_a_run_costs_the_same_per_instance_for_1_and_5_instances(count_run):
    one, two, five = count_run(1, 3), count_run(2, 3), count_run(5, 3)
    per_instance = two - one
    assert per_instance > 0
    assert five - one == 4 * per_instance, (one, two, five)


def test_a_run_costs_the_same_for_3_and_300_databases(count_run):
    assert count_run(1, 3) == count_run(1, 300)
