"""Settings for the benchmark's own processes (this one and the qclusters it starts).

The project's settings, plus what the benchmark varies: the heartbeat (so a killed cluster's
work is noticed within seconds) and the task queue's name (so clusters of other runs on the
same Redis never take its tasks). Everything else comes from the environment run.py sets.
"""

import os

from capacity_site.settings import *  # noqa: F403

CAPACITY_HEARTBEAT_SECONDS = float(os.environ.get("BENCH_HEARTBEAT_SECONDS", "1"))
if os.environ.get("BENCH_Q_NAME"):
    Q_CLUSTER = {**Q_CLUSTER, "name": os.environ["BENCH_Q_NAME"]}  # noqa: F405
