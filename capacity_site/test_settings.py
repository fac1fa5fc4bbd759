"""Settings for the test suite: the real settings with test keys and django-q2 in sync mode."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# Two keys, so every test also exercises decryption with a non-first key after rotation.
os.environ.setdefault(
    "CREDENTIAL_KEYS",
    "dGVzdC1rZXktb25lLWZvci1jcmVkZW50aWFscy0wMDE=,dGVzdC1rZXktdHdvLWZvci1jcmVkZW50aWFscy0wMDI=",
)

from .settings import *  # noqa: E402,F403
from .settings import DATABASES, Q_CLUSTER  # noqa: E402

# Test databases named per process, so two test runs on one machine never share one.
_default = DATABASES["default"]
_default.setdefault("TEST", {})
if _default["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so the collector's worker threads and subprocesses share it.
    _default["TEST"].setdefault("NAME", str(BASE_DIR / f"test_db_{os.getpid()}.sqlite3"))  # noqa: F405
else:
    _default["TEST"].setdefault("NAME", f"test_{_default['NAME']}_{os.getpid()}")

# django-q2 reads Conf at import time, so sync mode must be set here, not with override_settings.
Q_CLUSTER["sync"] = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
