"""django-q2 entry points. Plain importable functions that call the services, nothing more."""

from sync_sessions.choices import SyncType

from .services import collect as collection
from .services import fanout, sweeper
from .services.aggregate import run_aggregation
from .services.retention import run_retention


def run_collection_session(session_id: str) -> str:
    """Run a whole session in one worker (sessions queued before collection was fanned out)."""
    return collection.collect_session_by_id(session_id).status


def collect_queued_record(record_id: int) -> str:
    """Collect one instance of a queued session (one task per instance; a duplicate does nothing)."""
    return fanout.collect_queued_record(record_id)


def scheduled_collection() -> str:
    """The nightly collection: settle lost work, then put every active instance on the broker."""
    sweeper.sweep_collections()
    return fanout.start_queued_collection(sync_type=SyncType.SCHEDULED).status


def sweep_collections() -> dict:
    """Every minute: fail records whose worker stopped, re-queue tasks lost with a killed cluster."""
    return sweeper.sweep_collections()


def scheduled_aggregation() -> dict:
    """The daily weekly/monthly/quarterly aggregation of what arrived since the last run."""
    return run_aggregation().as_dict()


def scheduled_retention() -> dict:
    """The daily clean-up past CAPACITY_RETENTION_DAYS, creating the coming months' partitions first."""
    return run_retention().as_dict()
