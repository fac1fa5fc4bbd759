"""Generated capacity history: months of daily sizes, an inventory and sync sessions, written straight to the ORM.

Collection itself is tested against real servers elsewhere; the pages only need realistic rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from capacity.models import DatabaseInventory, DatabaseSizeStat, InstanceSizeStat
from capacity.services.aggregate import refresh_instance
from instances.models import Credential, Instance
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession

MIB = 1024**2
GIB = 1024**3


@dataclass
class DatabasePlan:
    name: str
    start_bytes: int
    daily_growth_bytes: int
    dropped_days_ago: int | None = None  # vanished this many days before today
    born_days_ago: int | None = None  # created this many days before today
    is_system: bool = False


@dataclass
class InstancePlan:
    name: str
    db_type: str
    databases: list[DatabasePlan]
    days: int = 120
    failing: bool = False
    is_active: bool = True
    port: int | None = None
    instance: Instance | None = field(default=None, repr=False)


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(3, 0)))


def write_history(plan: InstancePlan, today: date | None = None, seed: int = 7) -> Instance:
    """Create the instance and `plan.days` days of history ending today (in TIME_ZONE)."""
    today = today or timezone.localdate()
    rng = random.Random(f"{seed}-{plan.name}")
    credential = Credential(name=f"cred-{plan.name}", username="reader")
    credential.set_password("secret")
    credential.save()
    instance = Instance.objects.create(
        name=plan.name,
        db_type=plan.db_type,
        host="127.0.0.1",
        port=plan.port,
        credential=credential,
        is_active=plan.is_active,
        options={"service_name": "ORCLPDB1"} if plan.db_type == "oracle" else {},
    )
    plan.instance = instance
    stats, totals, inventory = [], [], []
    last: dict[str, tuple[DatabasePlan, int, date]] = {}
    for offset in range(plan.days - 1, -1, -1):
        day = today - timedelta(days=offset)
        total, count = 0, 0
        for db in plan.databases:
            if db.born_days_ago is not None and offset > db.born_days_ago:
                continue
            age = plan.days - 1 - offset if db.born_days_ago is None else db.born_days_ago - offset
            size = db.start_bytes + db.daily_growth_bytes * age + rng.randint(0, max(1, db.daily_growth_bytes // 3))
            dropped = db.dropped_days_ago is not None and offset <= db.dropped_days_ago
            if dropped and offset < db.dropped_days_ago:
                continue  # no rows after the day it vanished
            data = int(size * 0.8)
            stats.append(
                DatabaseSizeStat(
                    instance=instance,
                    database_name=db.name,
                    size_bytes=size,
                    data_size_bytes=data,
                    index_size_bytes=size - data,
                    log_size_bytes=None if plan.db_type != "sqlserver" else size // 10,
                    collected_date=day,
                    collected_at=_at(day),
                    is_deleted=dropped,
                    deleted_at=_at(day) if dropped else None,
                )
            )
            last[db.name] = (db, size, day)
            if not dropped:
                total += size
                count += 1
        totals.append(
            InstanceSizeStat(
                instance=instance,
                total_size_bytes=total,
                database_count=count,
                collected_date=day,
                collected_at=_at(day),
            )
        )
    for name, (db, size, day) in last.items():
        dropped = db.dropped_days_ago is not None
        data = int(size * 0.8)
        first_day = today - timedelta(days=db.born_days_ago if db.born_days_ago is not None else plan.days - 1)
        inventory.append(
            DatabaseInventory(
                instance=instance,
                database_name=name,
                is_system=db.is_system,
                first_seen_at=_at(first_day),
                last_seen_at=_at(day),
                last_size_bytes=size,
                last_data_size_bytes=data,
                last_index_size_bytes=size - data,
                last_log_size_bytes=None if plan.db_type != "sqlserver" else size // 10,
                is_deleted=dropped,
                deleted_at=_at(day) if dropped else None,
            )
        )
    DatabaseSizeStat.objects.bulk_create(stats, batch_size=500)
    InstanceSizeStat.objects.bulk_create(totals, batch_size=500)
    DatabaseInventory.objects.bulk_create(inventory)
    # As after a finished run (capacity.receivers): pages only read the aggregates.
    refresh_instance(Instance.objects.get(pk=instance.pk))
    if plan.failing:
        Instance.objects.filter(pk=instance.pk).update(
            last_sync_at=_at(today),
            last_sync_status=RecordStatus.FAILED,
            last_sync_error="Can't connect to server on '127.0.0.1' (111)",
            last_sync_error_kind="connection",
        )
    else:
        Instance.objects.filter(pk=instance.pk).update(
            last_sync_at=_at(today), last_connected=_at(today), last_sync_status=RecordStatus.COMPLETED
        )
    instance.refresh_from_db()
    return instance


def fleet_plans(days: int = 120) -> list[InstancePlan]:
    """A small fleet of every engine, one instance failing, databases growing at different rates."""
    return [
        InstancePlan(
            "orders-mysql-01",
            "mysql",
            [
                DatabasePlan("orders", 38 * GIB, 210 * MIB),
                DatabasePlan("order_archive", 21 * GIB, 40 * MIB),
                DatabasePlan("payments", 6 * GIB, 60 * MIB),
                DatabasePlan("legacy_reports", 2 * GIB, 5 * MIB, dropped_days_ago=12),
                DatabasePlan("coupons", 300 * MIB, 25 * MIB, born_days_ago=45),
            ],
            days=days,
        ),
        InstancePlan(
            "crm-pg-01",
            "postgresql",
            [
                DatabasePlan("crm", 52 * GIB, 180 * MIB),
                DatabasePlan("analytics", 17 * GIB, 310 * MIB),
                DatabasePlan("postgres", 8 * MIB, 0, is_system=True),
            ],
            days=days,
        ),
        InstancePlan(
            "erp-mssql-01",
            "sqlserver",
            [DatabasePlan("erp", 96 * GIB, 150 * MIB), DatabasePlan("erp_staging", 11 * GIB, 20 * MIB)],
            days=days,
        ),
        InstancePlan(
            "billing-ora-01",
            "oracle",
            [DatabasePlan("BILLING", 140 * GIB, 90 * MIB), DatabasePlan("USERS", 4 * GIB, 2 * MIB)],
            days=days,
        ),
        InstancePlan(
            "wiki-mysql-02",
            "mysql",
            [DatabasePlan("wiki", 3 * GIB, 8 * MIB), DatabasePlan("wiki_search", 900 * MIB, 3 * MIB)],
            days=days,
            failing=True,
        ),
        InstancePlan(
            "logs-pg-02",
            "postgresql",
            [DatabasePlan("events", 210 * GIB, 1400 * MIB)],
            days=days,
        ),
    ]


def write_sessions(instances: list[Instance], count: int = 5, user=None) -> list[SyncSession]:
    """`count` nightly sessions over the given instances, the newest with the failing ones failed."""
    now = timezone.now()
    sessions = []
    for n in range(count, 0, -1):
        started = now - timedelta(days=n - 1, minutes=5)
        session = SyncSession.objects.create(sync_type=SyncType.SCHEDULED if n > 1 else SyncType.MANUAL)
        records, ok, failed, databases, size = [], 0, 0, 0, 0
        for i in instances:
            latest = InstanceSizeStat.objects.filter(instance=i).order_by("-collected_date").first()
            fails = i.last_sync_status == RecordStatus.FAILED
            records.append(
                SyncInstanceRecord(
                    session=session,
                    instance=i,
                    instance_name=i.name,
                    status=RecordStatus.FAILED if fails else RecordStatus.COMPLETED,
                    databases_count=0 if fails else latest.database_count,
                    saved_count=0 if fails else latest.database_count,
                    total_size_bytes=0 if fails else latest.total_size_bytes,
                    error=i.last_sync_error if fails else "",
                    error_kind=i.last_sync_error_kind if fails else "",
                    started_at=started,
                    completed_at=started + timedelta(seconds=3 + len(records)),
                )
            )
            if fails:
                failed += 1
            else:
                ok += 1
                databases += latest.database_count
                size += latest.total_size_bytes
        SyncInstanceRecord.objects.bulk_create(records)
        status = SessionStatus.COMPLETED
        if failed:
            status = SessionStatus.PARTIAL if ok else SessionStatus.FAILED
        SyncSession.objects.filter(pk=session.pk).update(
            started_at=started,
            completed_at=started + timedelta(seconds=12 + n),
            status=status,
            total_instances=len(instances),
            successful_instances=ok,
            failed_instances=failed,
            total_databases=databases,
            total_size_bytes=size,
            created_by=user if n == 1 else None,
        )
        session.refresh_from_db()
        sessions.append(session)
    return sessions


def write_fleet(days: int = 120, user=None) -> list[Instance]:
    instances = [write_history(plan) for plan in fleet_plans(days)]
    write_sessions(instances, user=user)
    return instances
