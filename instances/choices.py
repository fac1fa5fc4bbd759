"""The one spelling of every enumerated value in the instances app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DbType(models.TextChoices):
    MYSQL = "mysql", _("MySQL / MariaDB")
    POSTGRESQL = "postgresql", _("PostgreSQL")
    SQLSERVER = "sqlserver", _("SQL Server")
    ORACLE = "oracle", _("Oracle")


DEFAULT_PORTS = {
    DbType.MYSQL: 3306,
    DbType.POSTGRESQL: 5432,
    DbType.SQLSERVER: 1433,
    DbType.ORACLE: 1521,
}


class ErrorKind(models.TextChoices):
    """Why a collection or a connection test failed, so staff can filter and act."""

    CONNECTION = "connection", pgettext_lazy("error kind", "Connection")
    TIMEOUT = "timeout", pgettext_lazy("error kind", "Timeout")
    AUTH = "auth", pgettext_lazy("error kind", "Authentication")
    PERMISSION = "permission", pgettext_lazy("error kind", "Permission")
    UNSUPPORTED = "unsupported", pgettext_lazy("error kind", "Unsupported")
    DATA = "data", pgettext_lazy("error kind", "Data")
