"""Webhook delivery: the JSON an alert sends, queueing one task per alert, and the HTTP POST itself."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from common import net

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


REDIRECT_CODES = (301, 302, 303, 307, 308)


class _NotFollowed(Exception):
    pass


def redirect_target(current: str, location: str) -> str:
    """Where a redirect leads, when it may be followed: http(s) only, never from https down to http."""
    url = urljoin(current, location)
    before, after = urlsplit(current).scheme.lower(), urlsplit(url).scheme.lower()
    if after not in WEBHOOK_SCHEMES or (before == "https" and after != "https"):
        raise _NotFollowed(url)
    return url


def _basic_auth(userinfo: str) -> str:
    user, _colon, password = userinfo.partition(":")
    token = f"{unquote(user)}:{unquote(password)}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")


def _send(web: net.WebURL, addresses, body: bytes, headers: dict, timeout: float) -> urllib3.BaseHTTPResponse:
    """POST to one of the checked addresses, in order: never a new lookup of the name, never a proxy."""
    error: Exception | None = None
    for address in addresses:
        options = {
            "host": str(address),
            "port": web.port,
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
            "retries": False,
            "maxsize": 1,
        }
        if web.scheme == "https":
            pool_class = urllib3.HTTPSConnectionPool
            # TLS is checked against the name in the URL although the socket goes to the checked address.
            options.update(cert_reqs="CERT_REQUIRED", server_hostname=web.host, assert_hostname=web.host)
        else:
            pool_class = urllib3.HTTPConnectionPool
        with pool_class(**options) as pool:
            try:
                response = pool.urlopen(
                    "POST",
                    web.target,
                    body=body,
                    headers={**headers, "Host": web.host_header},
                    redirect=False,
                    retries=False,
                    assert_same_host=False,
                    preload_content=False,
                )
            except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
                error = exc
                continue
            response.close()  # only the status and headers count: an endless body is never read
            return response
    raise error


def _failure(exc: Exception, timeout: float) -> str:
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a subclass of the timeout, so first
        reason = exc.__context__ or exc
        return _("Could not reach the webhook: %(reason)s") % {"reason": reason}
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return _("No answer within %(s)s seconds.") % {"s": f"{timeout:g}"}
    if isinstance(exc, urllib3.exceptions.SSLError):
        return _("The webhook's TLS failed: %(reason)s") % {"reason": exc}
    return _("The webhook failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}


def post_json(url: str, payload: dict, timeout: float) -> tuple[int | None, str]:
    """POST payload as JSON; (HTTP status or None, "" on a 2xx answer or the reason it failed).

    Every hop (the URL and each redirect, at most WEBHOOK_MAX_REDIRECTS) is checked by common.net
    before it is sent, and sent to the address that check resolved.
    """
    if urlsplit(url).scheme.lower() not in WEBHOOK_SCHEMES:
        return None, _("Only http and https webhooks are sent.")
    body = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode("utf-8")
    base_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "capacity-platform-alerts/1.0",
        "X-Capacity-Alert-Status": str(payload.get("status", "")),
    }
    current, status, origin, auth = url, None, None, ""
    for _hop in range(WEBHOOK_MAX_REDIRECTS + 1):
        try:
            web, addresses = net.check_url(current)
        except net.UnsafeURL as exc:
            if status is None:
                return None, _("Not sent: %(reason)s") % {"reason": exc.message}
            return status, _("HTTP %(code)d: redirect to %(url)s not followed: %(reason)s") % {
                "code": status,
                "url": current,
                "reason": exc.message,
            }
        # A login in the URL is sent as Basic auth, and only to the origin it was written for.
        if web.userinfo:
            auth = _basic_auth(web.userinfo)
        elif web.origin != origin:
            auth = ""
        origin = web.origin
        headers = {**base_headers, "Authorization": auth} if auth else base_headers
        try:
            response = _send(web, addresses, body, headers, timeout)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return None, _failure(exc, timeout)
        status = response.status
        location = response.headers.get("Location")
        if status in REDIRECT_CODES and location:
            try:
                current = redirect_target(current, location)
            except _NotFollowed as exc:
                return status, _("HTTP %(code)d: redirect to %(url)s not followed") % {"code": status, "url": exc}
            continue
        if 200 <= status < 300:
            return status, ""
        return status, _("HTTP %(code)d: %(reason)s") % {"code": status, "reason": response.reason}
    return status, _("HTTP %(code)d: more than %(n)d redirects") % {"code": status, "n": WEBHOOK_MAX_REDIRECTS}


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
