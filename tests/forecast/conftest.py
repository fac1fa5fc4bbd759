"""The API tests' users, clients and instances, plus generated daily history for trends."""

from datetime import date, timedelta

from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API tests
    admin,
    client_for,
    credential,
    make_target,
    operator,
    users,
    viewer,
)
from tests.factories import at, record_history

MiB = 1024 * 1024


def add_history(instance, end: date, days: int, databases: dict, *, skip=()):
    """`days` daily collections ending on `end`; `databases` maps a name to size(day_index) (None: absent).

    Day index 0 is the first day. Written by the collection service (tests/factories.py), so the
    instance total of a day is the sum of its databases. Days in `skip` have no collection at all.
    """
    collections = []
    for index in range(days):
        if index in skip:
            continue
        day = end - timedelta(days=days - 1 - index)
        sizes = {name: size_of(index) for name, size_of in databases.items()}
        collections.append((at(day, 0), {name: size for name, size in sizes.items() if size is not None}))
    record_history(instance, collections)
