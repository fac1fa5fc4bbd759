"""Let Django use SQLite's real bound-parameter limit instead of its historic 999.

SQLite 3.32+ allows 32766 parameters per statement; with Django's default of 999 a bulk
upsert of one large instance is split into many statements. Reading the limit from the
connection keeps an instance's save at a constant number of queries on SQLite too.
"""

import sqlite3

from django.db.backends.signals import connection_created
from django.dispatch import receiver


@receiver(connection_created)
def use_real_sqlite_parameter_limit(sender, connection, **kwargs):
    if connection.vendor != "sqlite":
        return
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    connection.features.max_query_params = max(999, limit)
