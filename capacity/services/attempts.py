"""One attempt at one instance: claim its record, take its lock, ask the engine, save or fail.

Whoever runs the attempt (a thread of an in-process run, a task worker) goes through here, so an
instance is collected the same way whatever asked for it. An attempt owns its record: the save
commits only while the attempt still owns the record and the instance lock (checked inside the
save's own transaction), so an attempt given up on writes nothing. Closing a session announces
it once (`capacity.signals.collection_finished`).
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.utils.translation import gettext as _

from instances.choices import ErrorKind
from instances.engines import CollectResult, EngineError, get_engine
from instances.models import Instance
from sync_sessions import services as lifecycle
from sync_sessions.choices import RecordStatus
from sync_sessions.models import SyncInstanceRecord, SyncSession
from sync_sessions.services import Attempt, acquire_instance_lock, finalize_if_done, release_instance_lock

from ..signals import collection_finished
from . import budgets
from .budgets import tables_wanted
from .save import AttemptLost, save_sizes

logger = logging.getLogger(__name__)


def start_attempt(record: SyncInstanceRecord) -> Attempt | None:
    """Claim the record and its instance's lock; None when there is nothing (more) to do.

    Never raises: a failure here (a locked or overloaded platform database) fails the record.
    """
    try:
        instance = record.instance
        if instance is None:
            lifecycle.settle(
                record.pk,
                RecordStatus.SKIPPED,
                only_if=[RecordStatus.PENDING],
                error=_("The instance was deleted before it could be collected."),
            )
            return None
        if not instance.is_active:
            lifecycle.settle(
                record.pk,
                RecordStatus.SKIPPED,
                only_if=[RecordStatus.PENDING],
                error=_("The instance is inactive."),
                error_kind="",
            )
            return None
        attempt = lifecycle.claim(record)
        if attempt is None:
            return None  # settled, cancelled, or owned by another delivery of the same task
        try:
            locked = acquire_instance_lock(instance.pk, attempt.token)
        except Exception as exc:
            logger.exception("locking %s failed", instance.name)
            lifecycle.fail(record, ErrorKind.DATA, _one_line(_("Locking the instance failed"), exc), attempt=attempt)
            return None
        if not locked:
            lifecycle.skip(record, _("Skipped: another run is collecting this instance right now."), attempt=attempt)
            return None
        return attempt
    except Exception as exc:
        logger.exception("starting the collection of %s failed", record.instance_name)
        _last_resort_fail(record, exc)
        return None


def _one_line(prefix: str, exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{prefix}: {type(exc).__name__}: {text}"[:1000]


def _last_resort_fail(record: SyncInstanceRecord, exc: BaseException, attempt: Attempt | None = None) -> None:
    try:
        lifecycle.fail(record, ErrorKind.DATA, _one_line(_("Collecting failed"), exc), attempt=attempt)
    except Exception:  # the platform database is gone: the run loop or the sweeper settles it
        logger.exception("could not fail the record of %s", record.instance_name)


def _ask(instance: Instance) -> CollectResult | Exception:
    """The engine's answer for one instance, or the exception it raised. Touches no platform table."""
    try:
        with get_engine(instance) as engine:
            if tables_wanted(instance):
                return engine.list_database_sizes(
                    tables=True, table_budget_seconds=settings.CAPACITY_TABLES_BUDGET_SECONDS
                )
            return engine.list_database_sizes()
    except Exception as exc:
        return exc


def _conclude(record: SyncInstanceRecord, attempt: Attempt, answer: CollectResult | Exception) -> None:
    """Save the answer (or fail the record), as the owner of `attempt`, then release the lock. Never raises."""
    instance = record.instance
    try:
        if isinstance(answer, EngineError):
            logger.warning(
                "collect %s failed (%s): %s",
                instance.name,
                answer.kind,
                answer.message,
                extra={"instance_failure": True},  # already on the record: collect_sizes prints it, not the log
            )
            lifecycle.fail(record, answer.kind, answer.message, attempt=attempt)
            return
        if isinstance(answer, Exception):
            raise answer
        try:
            save_sizes(instance, answer, attempt=attempt)
        except AttemptLost:
            logger.warning("collect %s finished after its attempt was given up on; nothing saved", instance.name)
            # Settled already (watchdog, sweeper) unless another run took the lock over meanwhile.
            lifecycle.fail(
                record,
                ErrorKind.TIMEOUT,
                _("Another run took this instance over before the sizes were saved; nothing was saved."),
                attempt=attempt,
            )
        except Exception as exc:
            logger.exception("saving sizes of %s failed", instance.name)
            lifecycle.fail(record, ErrorKind.DATA, _one_line(_("Saving the sizes failed"), exc), attempt=attempt)
    except Exception as exc:  # the run must go on whatever one instance does
        logger.exception("collect %s failed unexpectedly", instance.name)
        _last_resort_fail(record, exc, attempt)
    finally:
        try:
            release_instance_lock(instance.pk, attempt.token)
        except Exception:  # a lock nobody refreshes goes stale and is taken over
            logger.exception("releasing the lock of %s failed", instance.name)


def perform(record: SyncInstanceRecord, attempt: Attempt) -> None:
    """Ask the engine and save, as the owner of `attempt`. Never raises."""
    _conclude(record, attempt, _ask(record.instance))


def timeout_message(limit: float) -> str:
    return lifecycle.platform_text(
        lambda: _("No answer within %(s)d seconds; the run stopped waiting for this instance.") % {"s": int(limit)}
    )


def collect_in_this_worker(record: SyncInstanceRecord) -> bool:
    """Collect one record in a task worker; True when the instance was given up on.

    Only the engine call runs in a helper thread (it touches no platform table); claiming,
    beating, giving up and saving happen here, on the worker process's own connection, so a
    driver that answers after the give-up has nothing it could write.
    """
    attempt = start_attempt(record)
    if attempt is None:
        return False
    instance = record.instance
    answer: list = []
    finished = threading.Event()

    def ask():
        try:
            answer.append(_ask(instance))
        finally:
            finished.set()

    threading.Thread(target=ask, name=f"collect-{record.pk}", daemon=True).start()
    limit = budgets.limit_of(instance)
    every = lifecycle.heartbeat_seconds()
    started = time.monotonic()
    while not finished.wait(max(0.01, min(every, limit - (time.monotonic() - started)))):
        if time.monotonic() - started >= limit:
            try:
                lifecycle.fail(record, ErrorKind.TIMEOUT, timeout_message(limit), attempt=attempt)
                release_instance_lock(instance.pk, attempt.token)
            except Exception:  # the sweeper settles it once the beats stop
                logger.exception("giving up on %s failed", instance.name)
            return True
        try:
            lifecycle.beat([attempt])
        except Exception:  # a missed beat is survivable; six in a row let the sweeper act
            logger.exception("heartbeat of %s failed", instance.name)
    _conclude(record, attempt, answer[0])
    return False


def collect_record(record: SyncInstanceRecord) -> Attempt | None:
    """Collect one record in the calling thread (no watchdog, no heartbeat). Never raises."""
    attempt = start_attempt(record)
    if attempt is not None:
        perform(record, attempt)
    return attempt


def _announce(session: SyncSession) -> None:
    collection_finished.send(sender=None, session=session)  # receivers must not fail a collection


def finalize_session(session: SyncSession) -> SyncSession:
    """Close the session if nothing in it is open (announcing it once); returns it fresh."""
    closed = close_if_done(session.pk)
    if closed is not None:
        return closed
    session.refresh_from_db()
    return session


def close_if_done(session_id: int) -> SyncSession | None:
    """Close the session if its last record is settled, announcing it; None when it stays open."""
    closed = finalize_if_done(session_id)
    if closed is not None:
        _announce(closed)
    return closed
