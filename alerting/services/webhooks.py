"""Webhook delivery: the JSON an alert sends, queueing one task per alert, and the HTTP POST itself."""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..choices import KIND_UNIT
from ..models import Alert

logger = logging.getLogger(__name__)

WEBHOOK_SCHEMES = ("http", "https")
WEBHOOK_MAX_REDIRECTS = 3
WEBHOOK_ERROR_LENGTH = 1000


def webhook_timeout() -> float:
    """Seconds a webhook may take to connect and to answer (CAPACITY_WEBHOOK_TIMEOUT, default 10)."""
    return float(settings.CAPACITY_WEBHOOK_TIMEOUT)


# --- webhooks --------------------------------------------------------------------------------


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def webhook_payload(alert: Alert) -> dict:
    """What a webhook receives: the alert, its rule and instance, and where to look in the admin."""
    rule, instance = alert.rule, alert.instance
    return {
        "alert_id": alert.pk,
        "status": alert.status,
        "rule_id": rule.pk,
        "rule_name": rule.name,
        "kind": rule.kind,
        "instance_id": instance.pk,
        "instance_name": instance.name,
        "db_type": instance.db_type,
        "database_name": alert.database_name,
        "value": _number(alert.value),
        "threshold": _number(alert.threshold),
        "unit": KIND_UNIT.get(rule.kind),
        "message": alert.message,
        "first_fired_at": alert.first_fired_at.isoformat(),
        "last_evaluated_at": alert.last_evaluated_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "link": reverse("admin:instances_instance_capacity", args=[instance.pk]),
    }


def queue_webhooks(alerts: Iterable[Alert]) -> int:
    """Queue one delivery task per alert whose rule has a webhook; returns how many were queued."""
    from django_q.tasks import async_task

    queued = 0
    for alert in alerts:
        if not alert.rule.webhook_url or alert.pk is None:
            continue
        payload = webhook_payload(alert)
        try:
            async_task(
                "alerting.tasks.deliver_alert_webhook",
                alert.pk,
                payload,
                task_name=f"alert-webhook-{alert.pk}-{alert.status}",
            )
            queued += 1
        except Exception as exc:  # a broker outage must not lose the alert itself
            logger.exception("queueing the webhook of alert %s failed", alert.pk)
            with translation.override(settings.LANGUAGE_CODE):
                error = _("The webhook could not be queued: %(error)s") % {"error": exc}
            Alert.objects.filter(pk=alert.pk).update(webhook_error=error[:WEBHOOK_ERROR_LENGTH])
    return queued


class _WebhookRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to http(s), never from https down to http, and re-send the same POST."""

    max_redirections = WEBHOOK_MAX_REDIRECTS

    @staticmethod
    def _refuse_other_schemes(req, fp, code, headers, newurl):
        before, after = urlsplit(req.full_url).scheme, urlsplit(newurl).scheme
        if after not in WEBHOOK_SCHEMES or (before == "https" and after != "https"):
            reason = _("redirect to %(url)s not followed") % {"url": newurl}
            raise urllib.error.HTTPError(req.full_url, code, reason, headers, fp)

    def http_error_302(self, req, fp, code, msg, headers):
        # Checked before urllib's own rules, which would still follow ftp: and word a refusal differently.
        location = headers.get("location") or headers.get("uri")
        if location:
            self._refuse_other_schemes(req, fp, code, headers, urljoin(req.full_url, location))
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self._refuse_other_schemes(req, fp, code, headers, newurl)
        return urllib.request.Request(
            newurl,
            data=req.data,
            headers=dict(req.headers),
            origin_req_host=req.origin_req_host,
            unverifiable=True,
            method="POST",
        )


def _opener() -> urllib.request.OpenerDirector:
    # Only the HTTP(S) handlers: no file:, ftp: or data: handler for a URL to reach.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _WebhookRedirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def post_json(url: str, payload: dict, timeout: float) -> tuple[int | None, str]:
    """POST payload as JSON; (HTTP status or None, "" on a 2xx answer or the reason it failed)."""
    if urlsplit(url).scheme not in WEBHOOK_SCHEMES:
        return None, _("Only http and https webhooks are sent.")
    body = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "capacity-platform-alerts/1.0",
            "X-Capacity-Alert-Status": str(payload.get("status", "")),
        },
    )
    try:
        with _opener().open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, _("HTTP %(code)d: %(reason)s") % {"code": exc.code, "reason": exc.reason}
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return None, _("No answer within %(s)s seconds.") % {"s": f"{timeout:g}"}
        return None, _("Could not reach the webhook: %(reason)s") % {"reason": exc.reason}
    except TimeoutError:
        return None, _("No answer within %(s)s seconds.") % {"s": f"{timeout:g}"}
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, _("The webhook failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}


def deliver_webhook(alert_id: int, payload: dict) -> dict:
    """Send one alert event to its rule's webhook and record the outcome on the alert. Never raises."""
    alert = Alert.objects.select_related("rule").filter(pk=alert_id).first()
    if alert is None:
        logger.info("alert %s is gone (its rule or instance was deleted); webhook not sent", alert_id)
        return {"alert_id": alert_id, "status": None, "error": "alert deleted"}
    url = alert.rule.webhook_url
    if not url:
        return {"alert_id": alert_id, "status": None, "error": "no webhook"}
    with translation.override(settings.LANGUAGE_CODE):
        try:
            code, error = post_json(url, payload, webhook_timeout())
        except Exception as exc:  # whatever the receiver does, the outcome is recorded, not raised
            logger.exception("webhook of alert %s failed", alert_id)
            code, error = None, _("The webhook failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
    fields = {"webhook_status": code, "webhook_error": error[:WEBHOOK_ERROR_LENGTH]}
    if not error:
        fields["webhook_delivered_at"] = timezone.now()
    Alert.objects.filter(pk=alert_id).update(**fields)
    if error:
        logger.warning("webhook of alert %s to %s failed: %s", alert_id, urlsplit(url).hostname, error)
    return {"alert_id": alert_id, "status": code, "error": error}
