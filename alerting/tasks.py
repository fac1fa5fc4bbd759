"""django-q2 entry points of alerting. Plain importable functions that call the services, nothing more."""

from .services import deliver_webhook, evaluate


def evaluate_alerts() -> dict:
    """Evaluate every active alert rule against the latest collections of the active instances."""
    return evaluate().as_dict()


def deliver_alert_webhook(alert_id: int, payload: dict) -> dict:
    """POST one alert event to its rule's webhook (queued by the evaluation) and record the outcome."""
    return deliver_webhook(alert_id, payload)
