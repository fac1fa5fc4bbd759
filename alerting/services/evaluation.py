"""Evaluating the alert rules: over the fleet, after a collection, with the webhooks queued after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation

from instances.models import Instance
from sync_sessions.choices import RecordStatus

from . import persistence
from .persistence import EvaluationResult
from .webhooks import queue_webhooks

logger = logging.getLogger(__name__)


def _instance_ids(instances) -> list[int] | None:
    if instances is None:
        return None
    return sorted({i.pk if isinstance(i, Instance) else int(i) for i in instances})


def evaluate(instances: Iterable[Instance | int] | None = None) -> EvaluationResult:
    """Evaluate the active rules over the active instances (all, or those given) and queue their webhooks.

    Only the alerts of the instances evaluated are touched: firing ones whose condition no longer holds
    (the size went down, the rule was switched off or narrowed, the instance deactivated) are resolved.
    """
    ids = _instance_ids(instances)
    if ids is not None and not ids:
        return EvaluationResult()
    with translation.override(settings.LANGUAGE_CODE):
        # Two evaluations racing to open the same alert: the loser's insert breaks the one-firing-alert
        # constraint and rolls back; evaluating again then finds the winner's alert and updates it.
        for attempt in (1, 2):
            try:
                result = _evaluate(ids)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                logger.info("another evaluation opened the same alerts at the same time; evaluating again")
        # Queued after the commit, so the task finds the alert and a slow webhook holds up nothing.
        events = result.fired + result.resolved
        if events:
            transaction.on_commit(lambda: queue_webhooks(events))
    return result


def _evaluate(ids: list[int] | None) -> EvaluationResult:
    return persistence.apply(persistence.plan(ids))


def evaluate_after_collection(session) -> EvaluationResult | None:
    """Evaluate for the instances a collection has just measured. Never raises: alerting never fails a collection."""
    try:
        ids = list(
            session.records.filter(status=RecordStatus.COMPLETED, instance__isnull=False).values_list(
                "instance_id", flat=True
            )
        )
        return evaluate(ids) if ids else None
    except Exception:
        logger.exception("evaluating alert rules after session %s failed", session.session_id)
        return None
