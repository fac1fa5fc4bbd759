"""Instance operations that are not collection: testing a connection."""

from django.utils import timezone

from .choices import ErrorKind
from .engines import ConnectionTestResult, EngineError, get_engine
from .models import Instance


def test_connection(instance: Instance) -> ConnectionTestResult:
    """Connect, read the server version, close. Never raises; records `last_connected` on success."""
    try:
        engine = get_engine(instance)
    except EngineError as exc:
        return ConnectionTestResult(success=False, error=exc.message, error_kind=exc.kind)
    result = engine.test_connection()
    if result.success:
        Instance.objects.filter(pk=instance.pk).update(last_connected=timezone.now())
    return result


test_connection.__test__ = False  # not a pytest test, despite its name

__all__ = ["ErrorKind", "test_connection"]
