"""Fernet encryption of stored target passwords with the keys in CREDENTIAL_KEYS.

The first key encrypts; every key decrypts, so a new key can be put in front and the old
ones kept until `manage.py rotate_credential_keys` has re-encrypted everything.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext as _


class CredentialDecryptError(Exception):
    """A stored password could not be decrypted with any configured key."""


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = list(settings.CREDENTIAL_KEYS)
    if not keys:
        raise ImproperlyConfigured("CREDENTIAL_KEYS is empty.")
    try:
        return MultiFernet([Fernet(k.strip().encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"CREDENTIAL_KEYS holds a key that is not a Fernet key: {exc}") from exc


@receiver(setting_changed)
def _reset(setting, **kwargs):
    if setting == "CREDENTIAL_KEYS":
        _fernet.cache_clear()


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise CredentialDecryptError(
            _("The stored password cannot be decrypted with any key in CREDENTIAL_KEYS.")
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token with the first (newest) key."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise CredentialDecryptError(
            _("The stored password cannot be decrypted with any key in CREDENTIAL_KEYS.")
        ) from exc
