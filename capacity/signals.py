"""Signals capacity sends, so the apps above it (alerting) react without capacity importing them."""

from django.dispatch import Signal

# Sent once a collection run's session is finalized: sender=None, session=SyncSession.
collection_finished = Signal()
