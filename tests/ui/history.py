"""Generated capacity history: months of daily collections (through tests/factories.py) and sync sessions.

Collection itself is tested against real servers elsewhere; the pages only need realistic rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from capacity.models import InstanceSizeStat
from instances.engines import DatabaseSize
from instances.models import Credential, Instance
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType
from sync_sessions.models import SyncInstanceRecord, SyncSession
from tests.factories import at, record_history

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
    collections = []
    for offset in range(plan.days - 1, -1, -1):
        day = today - timedelta(days=offset)
        sizes = {}
        for db in plan.databases:
            if db.born_days_ago is not None and offset > db.born_days_ago:
                continue
            if db.dropped_days_ago is not None and offset <= db.dropped_days_ago:
                continue  # gone: the collection marks it deleted the day it is first missed
            age = plan.days - 1 - offset if db.born_days_ago is None else db.born_days_ago - offset
            size = db.start_bytes + db.daily_growth_bytes * age + rng.randint(0, max(1, db.daily_growth_bytes // 3))
            data = int(size * 0.8)
            sizes[db.name] = DatabaseSize(
                name=db.name,
                size_bytes=size,
                data_size_bytes=data,
                index_size_bytes=size - data,
                log_size_bytes=None if plan.db_type != "sqlserver" else size // 10,
                is_system=db.is_system,
            )
        collections.append((at(day), sizes))
    # Through the collection service, then the aggregates brought up to date as after a run.
    # A fleet is written for many tests: the same plan on the same day reuses the service's rows.
    record_history(
        instance, collections, reuse_key=(repr(plan.databases), plan.name, plan.db_type, plan.days, today, seed)
    )
    if plan.failing:
        Instance.objects.filter(pk=instance.pk).update(
            last_sync_at=at(today),
            last_sync_status=RecordStatus.FAILED,
            last_sync_error="Can't connect to server on '127.0.0.1' (111)",
            last_sync_error_kind="connection",
        )
    else:
        Instance.objects.filter(pk=instance.pk).update(
            last_sync_at=at(today), last_connected=at(today), last_sync_status=RecordStatus.COMPLETED
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
