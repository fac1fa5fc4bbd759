"""Instance operations that are not collection: testing a connection."""

from django.utils import timezone
from django.utils.translation import gettext as _

from common import audit

from .choices import ErrorKind
from .engines import ConnectionTestResult, EngineError, get_engine
from .models import Instance


def test_connection(instance: Instance, *, user=None) -> ConnectionTestResult:
    """Connect, read the server version, close. Never raises; records `last_connected` on success.

    Who asked is recorded: a signed-in user's test lands in the instance's admin history
    ("Connection test: …", the outcome's kind, never the driver's message); a test without one
    (manage.py test_connection, run by whoever holds the platform's shell) is not recorded.
    """
    try:
        engine = get_engine(instance)
    except EngineError as exc:
        result = ConnectionTestResult(success=False, error=exc.message, error_kind=exc.kind)
    else:
        result = engine.test_connection()
    if result.success:
        Instance.objects.filter(pk=instance.pk).update(last_connected=timezone.now())
    record_connection_test(instance, result, user=user)
    return result


def record_connection_test(instance: Instance, result: ConnectionTestResult, *, user=None) -> None:
    """Write who tested this instance's connection, and the outcome, where an auditor looks for it."""
    if not getattr(user, "is_authenticated", False):
        return  # manage.py test_connection: its operator holds the shell, and its output is one line
    with audit.site_language():
        if result.success:
            message = _("Connection test: succeeded (%(version)s).") % {"version": result.server_version}
        else:
            message = _("Connection test: failed [%(kind)s].") % {"kind": result.error_kind or "—"}
        audit.log_event(user, instance, message)


test_connection.__test__ = False  # not a pytest test, despite its name

__all__ = ["ErrorKind", "record_connection_test", "test_connection"]
