"""Instance operations that are not collection: testing a connection."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from common import audit
from common.badges import choice_label

from . import binding
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


@dataclass(frozen=True)
class ConnectionOutcome:
    """The answer to "test this instance's connection", for every screen that asks it.

    `status` is one of the constants below; `kind` the failure's ErrorKind ("" on success);
    `message` the bare reason of a failure; `summary` one line for a person, naming the instance;
    `result` what the API returns (server version, elapsed time, error and its kind).
    """

    CONNECTED = "connected"
    FAILED = "failed"
    NO_CREDENTIAL = "no_credential"
    DENIED = "denied"

    status: str
    result: ConnectionTestResult
    summary: str

    @property
    def success(self) -> bool:
        return self.status == self.CONNECTED

    @property
    def kind(self) -> str:
        return self.result.error_kind

    @property
    def message(self) -> str:
        return self.result.error


def _summary(instance: Instance, result: ConnectionTestResult) -> str:
    if result.success:
        return _("%(name)s: connected in %(ms)d ms (%(version)s).") % {
            "name": instance.name,
            "ms": result.elapsed_ms,
            "version": result.server_version,
        }
    return _("%(name)s: connection failed [%(kind)s]: %(error)s") % {
        "name": instance.name,
        "kind": choice_label(ErrorKind.choices, result.error_kind),
        "error": result.error,
    }


def check_connection(instance: Instance, *, user=None) -> ConnectionOutcome:
    """Test one instance's connection and report it (the admin action, its row button and the API).

    An instance without a credential, or whose credential is not approved for its target
    (`binding.approval_denial`), is refused before anything is sent anywhere.
    """
    if instance.credential_id is None:
        status = ConnectionOutcome.NO_CREDENTIAL
        result = ConnectionTestResult(
            success=False,
            error=_("Instance %(name)s has no credential to connect with.") % {"name": instance.name},
            error_kind=ErrorKind.AUTH.value,
        )
    elif denial := binding.approval_denial(instance):
        status = ConnectionOutcome.DENIED
        result = ConnectionTestResult(success=False, error=denial, error_kind=ErrorKind.PERMISSION.value)
        record_connection_test(instance, result, user=user)  # a refused attempt is audited too
    else:
        result = test_connection(instance, user=user)
        status = ConnectionOutcome.CONNECTED if result.success else ConnectionOutcome.FAILED
    return ConnectionOutcome(status=status, result=result, summary=_summary(instance, result))


__all__ = ["ConnectionOutcome", "ErrorKind", "check_connection", "record_connection_test", "test_connection"]
