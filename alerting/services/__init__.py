"""Alerting: the active rules against the latest collections, and a webhook for every alert that opens or closes.

Evaluation is set-based. Whatever the fleet, it reads the rules, the instances, every instance's latest
total, the live database rows of those latest collections (only when a rule watches databases), the daily
totals of the longest window (only when a rule watches growth or the forecast) and the firing alerts, then
writes what changed in one short transaction: a fixed number of queries however many instances there are.

One firing alert per (rule, instance, database): while the condition holds, each evaluation updates it;
when it clears, the alert is resolved; a later breach opens a new one. Webhooks are queued with django-q2
after the transaction commits, so a slow receiver never holds up a collection.
"""

from .evaluation import evaluate, evaluate_after_collection
from .persistence import EvaluationResult
from .webhooks import deliver_webhook, queue_webhooks, webhook_payload

__all__ = [
    "EvaluationResult",
    "deliver_webhook",
    "evaluate",
    "evaluate_after_collection",
    "queue_webhooks",
    "webhook_payload",
]
