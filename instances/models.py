"""Who and where: the credentials and instances whose databases are measured."""

import ipaddress
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import crypto
from .choices import DEFAULT_PORTS, DbType, ErrorKind

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def validate_host(value: str) -> None:
    """A DNS name, an IPv4 address or an IPv6 address (optionally in brackets)."""
    host = value.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if not host or len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValidationError(_("'%(value)s' is not a valid host name or IP address."), params={"value": value})


def normalise_host(value: str) -> str:
    """The spelling a host is compared in: no surrounding space or brackets, lower case, IPs canonical.

    Only spellings that reach the same address are made equal ("DB1" and "db1", "[::1]" and
    "0:0::1"); anything else (a trailing dot, "127.1") stays distinct, so a doubt means "not approved".
    """
    host = (value or "").strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host.lower()


class Credential(models.Model):
    """A login used to read catalogs. The password is stored as a Fernet token, never in clear."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    username = models.CharField(_("username"), max_length=128)
    password = models.TextField(_("password (encrypted)"), blank=True, default="", editable=False)
    description = models.TextField(_("description"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")

    def __str__(self):
        return f"{self.name} ({self.username})"

    def set_password(self, raw_password: str) -> None:
        self.password = crypto.encrypt(raw_password) if raw_password else ""

    def get_password(self) -> str:
        return crypto.decrypt(self.password) if self.password else ""

    @property
    def has_password(self) -> bool:
        return bool(self.password)


class Instance(models.Model):
    """A database server whose databases are measured."""

    name = models.CharField(_("name"), max_length=128, unique=True)
    db_type = models.CharField(_("database type"), max_length=20, choices=DbType.choices, db_index=True)
    host = models.CharField(_("host"), max_length=255, validators=[validate_host])
    port = models.PositiveIntegerField(
        _("port"),
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
        blank=True,
        null=True,
        help_text=_("Leave empty for the engine's default port."),
    )
    credential = models.ForeignKey(
        Credential,
        verbose_name=_("credential"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="instances",
    )
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    last_connected = models.DateTimeField(_("last connected"), null=True, blank=True)
    options = models.JSONField(
        _("options"),
        default=dict,
        blank=True,
        help_text=_(
            'Engine extras as JSON, e.g. {"service_name": "ORCLPDB1"} or {"sid": "ORCL"} for Oracle, '
            '{"odbc_driver": "FreeTDS"} for SQL Server, {"sslmode": "require"} for PostgreSQL, '
            '{"ssl": true} for MySQL, {"database": "postgres"} for the database to log in to.'
        ),
    )
    description = models.TextField(_("description"), blank=True, default="")
    capacity_limit_bytes = models.BigIntegerField(
        _("capacity limit (bytes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("The room this instance has, used to forecast the days until it is full."),
    )
    collect_tables = models.BooleanField(
        _("collect table sizes"),
        null=True,
        blank=True,
        default=None,
        help_text=_("Keep the largest tables of each database every day. Unknown: follow CAPACITY_COLLECT_TABLES."),
    )
    # The outcome of the latest collection, kept here so lists need no history scan.
    last_sync_at = models.DateTimeField(_("last collection"), null=True, blank=True)
    last_sync_status = models.CharField(_("last collection status"), max_length=20, blank=True, default="")
    last_sync_error = models.TextField(_("last collection error"), blank=True, default="")
    last_sync_error_kind = models.CharField(
        _("last error kind"), max_length=20, blank=True, default="", choices=ErrorKind.choices
    )
    # Held while a collection of this instance runs, so two runs never collect it at once.
    collection_lock = models.UUIDField(null=True, blank=True, editable=False)
    collection_locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("instance")
        verbose_name_plural = _("instances")
        permissions = [("sync_capacity", _("Can collect capacity and test connections"))]

    def __str__(self):
        return self.name

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS.get(self.db_type, 0)

    def clean(self):
        super().clean()
        if self.options is None:
            self.options = {}
        if not isinstance(self.options, dict):
            raise ValidationError({"options": _("Options must be a JSON object.")})
        if self.db_type in DbType.values:
            # The typed allowlist of the engine (instances/engines/options.py); checked again on connect.
            from .engines.options import validate_options

            self.options = validate_options(self.db_type, self.options)
        if self.db_type == DbType.ORACLE and not (self.options.get("service_name") or self.options.get("sid")):
            raise ValidationError({"options": _("An Oracle instance needs 'service_name' or 'sid' in its options.")})


class CredentialTarget(models.Model):
    """An (engine, host, port) that a credential's password may be sent to, and who allowed it.

    The password of a stored credential is only ever sent to a target approved for it (checked
    where the password is decrypted for a connection), so whoever may edit instances but not
    credentials cannot point a stored login at a server of their own. The database name is not
    part of a target: one approval covers every database of that server.
    """

    credential = models.ForeignKey(
        Credential, verbose_name=_("credential"), on_delete=models.CASCADE, related_name="targets"
    )
    db_type = models.CharField(_("database type"), max_length=20, choices=DbType.choices)
    host = models.CharField(
        _("host"),
        max_length=255,
        validators=[validate_host],
        help_text=_("Compared without regard to case or IPv6 brackets."),
    )
    port = models.PositiveIntegerField(_("port"), validators=[MinValueValidator(1), MaxValueValidator(65535)])
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), default=timezone.now, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["credential", "db_type", "host", "port"]
        verbose_name = _("approved target")
        verbose_name_plural = _("approved targets")
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "db_type", "host", "port"], name="instances_credentialtarget_unique"
            )
        ]

    def __str__(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.db_type}://{host}:{self.port}"

    def save(self, *args, **kwargs):
        self.host = normalise_host(self.host)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.host = normalise_host(self.host)
