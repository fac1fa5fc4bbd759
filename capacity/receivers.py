"""Capacity's own reaction to a finished collection run: bring the collected instances' aggregates up to date.

Pages and the API then only read (a GET never writes); the nightly aggregation stays the safety net."""

import logging

from django.dispatch import receiver

from instances.models import Instance
from sync_sessions.choices import RecordStatus

from .services.aggregate import refresh_instance
from .signals import collection_finished

logger = logging.getLogger(__name__)


@receiver(collection_finished, dispatch_uid="capacity.refresh_aggregates")
def refresh_collected_aggregates(sender, session, **kwargs):
    """Never raises: a busy database delays the catch-up to the nightly aggregation, it fails no collection."""
    ids = session.records.filter(status=RecordStatus.COMPLETED, instance__isnull=False).values_list(
        "instance_id", flat=True
    )
    for instance in Instance.objects.filter(pk__in=list(ids)).order_by("pk"):
        try:
            refresh_instance(instance)
        except Exception:
            logger.exception("bringing the aggregates of %s up to date failed", instance.name)
