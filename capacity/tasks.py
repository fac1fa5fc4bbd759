"""django-q2 entry points. Plain importable functions that call the services, nothing more."""

from sync_sessions.choices import SyncType

from .services.aggregate import run_aggregation
from .services.collect import collect, collect_session_by_id, settle_interrupted_sessions
from .services.retention import run_retention


def run_collection_session(session_id: str) -> str:
    """Run a session created by the API or the admin (queued with async_task)."""
    return collect_session_by_id(session_id).status


def scheduled_collection() -> str:
    """The nightly collection of every active instance (after closing runs that died)."""
    settle_interrupted_sessions()
    return collect(sync_type=SyncType.SCHEDULED).status


def scheduled_aggregation() -> dict:
    """The daily weekly/monthly/quarterly aggregation of what arrived since the last run."""
    return run_aggregation().as_dict()


def scheduled_retention() -> dict:
    """The daily clean-up past CAPACITY_RETENTION_DAYS, creating the coming months' partitions first."""
    return run_retention().as_dict()
