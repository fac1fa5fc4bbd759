"""The one spelling of every enumerated value in the instances app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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

    CONNECTION = "connection", _("Connection")
    TIMEOUT = "timeout", _("Timeout")
    AUTH = "auth", _("Authentication")
    PERMISSION = "permission", _("Permission")
    UNSUPPORTED = "unsupported", _("Unsupported")
    DATA = "data", _("Data")
