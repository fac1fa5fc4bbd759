"""The real settings (django-q2 asynchronous) with a heartbeat the tests can wait out.

For subprocesses (collect_sizes, qcluster) that a test kills: TEST_HEARTBEAT_SECONDS sets how
often running attempts beat, so the sweeper sees a dead worker within a few seconds.
"""

import os

from capacity_site.settings import *  # noqa: F403

CAPACITY_HEARTBEAT_SECONDS = float(os.environ.get("TEST_HEARTBEAT_SECONDS", "5"))
