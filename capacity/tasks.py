"""django-q2 entry points. Plain importable functions that call the services, nothing more."""

from sync_sessions.choices import SyncType

from .services.collect import collect, collect_session_by_id


def run_collection_session(session_id: str) -> str:
    """Run a session created by the API or the admin (queued with async_task)."""
    return collect_session_by_id(session_id).status


def scheduled_collection() -> str:
    """The nightly collection of every active instance."""
    return collect(sync_type=SyncType.SCHEDULED).status
