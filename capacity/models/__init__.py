"""Capacity's models, one module per topic, all importable from here (Django finds them here too)."""

from common.formatting import MIB, to_mib

from ..choices import MaintenanceJob, PeriodType
from .aggregates import DatabaseSizeAggregate, InstanceSizeAggregate, SizeAggregateBase
from .inventory import DatabaseInventory
from .maintenance import MaintenanceRun
from .sizes import DatabaseSizeStat, InstanceSizeStat, TableSizeStat

__all__ = [
    "MIB",
    "DatabaseInventory",
    "DatabaseSizeAggregate",
    "DatabaseSizeStat",
    "InstanceSizeAggregate",
    "InstanceSizeStat",
    "MaintenanceJob",
    "MaintenanceRun",
    "PeriodType",
    "SizeAggregateBase",
    "TableSizeStat",
    "to_mib",
]
