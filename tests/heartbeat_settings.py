"""The real settings (django-q2 asynchronous) with a heartbeat the tests can wait out.

For subprocesses (collect_sizes, qcluster) that a test kills: TEST_HEARTBEAT_SECONDS sets how
often running attempts beat, so the sweeper sees a dead worker within a few seconds.
"""

import os

from capacity_site.settings import *  # noqa: F403

CAPACITY_HEARTBEAT_SECONDS = float(os.environ.get("TEST_HEARTBEAT_SECONDS", "5"))

# A queue of the test's own on a shared Redis: other test runs' clusters never take its tasks.
if os.environ.get("TEST_Q_NAME"):
    Q_CLUSTER = {**Q_CLUSTER, "name": os.environ["TEST_Q_NAME"]}  # noqa: F405
