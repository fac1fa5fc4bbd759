"""GET /metrics: the latest sizes in the Prometheus text exposition format (version 0.0.4).

Series, for every active instance:
- capacity_database_size_bytes{instance,database,db_type}: each live database of its latest collection;
- capacity_instance_size_bytes{instance,db_type}: the total of its latest collection;
- capacity_instance_capacity_limit_bytes{instance,db_type}: its capacity limit, when it has one;
- capacity_last_collection_timestamp_seconds{instance} and capacity_last_collection_success{instance}
  (1 or 0): when its last collection ran and whether it succeeded.
An instance never collected has no series of the last two kinds (nor sizes): there is no collection to
describe. Inactive instances are left out, so a retired instance stops alerting.

Two queries whatever the size of the fleet. prometheus_client writes the text (HELP and TYPE lines,
label values escaped); the collector lives in a registry of its own, so nothing else leaks in.
"""

import hmac
from collections import defaultdict

from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from instances.models import Instance
from sync_sessions.choices import RecordStatus

from .models import DatabaseSizeStat
from .queries import with_latest_size

DATABASE_SIZE = "capacity_database_size_bytes"
DATABASE_SIZE_HELP = "Size of a database on its instance's latest collection, in bytes."


def _label(value: str) -> str:
    """A label value escaped as the text format wants it (backslash, newline, double quote)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def database_size_text(rows, by_pk: dict) -> str:
    """The capacity_database_size_bytes family, written directly.

    One series per database makes this the family that grows with the fleet (10,000 series for 100
    instances of 100 databases); prometheus_client's generic writer takes about ten times longer for it
    than this loop. Same format: HELP and TYPE lines, labels sorted by name, Go-style floats.
    """
    lines = [f"# HELP {DATABASE_SIZE} {DATABASE_SIZE_HELP}\n", f"# TYPE {DATABASE_SIZE} gauge\n"]
    labels = {}
    for instance_id, database, size in rows:
        tail = labels.get(instance_id)
        if tail is None:
            row = by_pk[instance_id]
            tail = labels[instance_id] = f'db_type="{_label(row["db_type"])}",instance="{_label(row["name"])}"}} '
        lines.append(f'{DATABASE_SIZE}{{database="{_label(database)}",{tail}{floatToGoString(size)}\n')
    return "".join(lines)


class CapacityCollector(Collector):
    """Reads the platform database on every scrape; holds no state between scrapes.

    The per-database family is written by `database_size_text` (see there) into `database_sizes`;
    the other families go through prometheus_client.
    """

    database_sizes = ""

    def collect(self):
        # HELP texts stay in English: they are metadata Prometheus stores, not a page someone reads.
        instance_size = GaugeMetricFamily(
            "capacity_instance_size_bytes",
            "Total size of an instance's databases on its latest collection, in bytes.",
            labels=["instance", "db_type"],
        )
        capacity_limit = GaugeMetricFamily(
            "capacity_instance_capacity_limit_bytes",
            "The room an instance has (its capacity limit), in bytes; only instances with a limit.",
            labels=["instance", "db_type"],
        )
        last_timestamp = GaugeMetricFamily(
            "capacity_last_collection_timestamp_seconds",
            "When the instance's last collection ran (success or failure), in seconds since the epoch.",
            labels=["instance"],
        )
        last_success = GaugeMetricFamily(
            "capacity_last_collection_success",
            "1 when the instance's last collection succeeded, 0 when it failed; absent before the first one.",
            labels=["instance"],
        )

        instances = list(
            with_latest_size(Instance.objects.filter(is_active=True))
            .order_by("name")
            .values(
                "pk",
                "name",
                "db_type",
                "capacity_limit_bytes",
                "last_sync_at",
                "last_sync_status",
                "latest_total_size_bytes",
                "latest_collected_date",
            )
        )
        by_pk = {row["pk"]: row for row in instances}
        for row in instances:
            if row["latest_total_size_bytes"] is not None:
                instance_size.add_metric([row["name"], row["db_type"]], row["latest_total_size_bytes"])
            if row["capacity_limit_bytes"] is not None:
                capacity_limit.add_metric([row["name"], row["db_type"]], row["capacity_limit_bytes"])
            if row["last_sync_at"] is not None:
                last_timestamp.add_metric([row["name"]], row["last_sync_at"].timestamp())
                last_success.add_metric([row["name"]], 1 if row["last_sync_status"] == RecordStatus.COMPLETED else 0)

        self.database_sizes = database_size_text(_latest_database_sizes(instances), by_pk)
        yield from (instance_size, capacity_limit, last_timestamp, last_success)


def _latest_database_sizes(instances: list[dict]):
    """(instance id, database, bytes) of each instance's latest collection, in one query.

    Instances collected the same night share a date, so the condition is one term per distinct
    latest date ("these instances on that day"), which the (instance, date) index answers.
    """
    by_date = defaultdict(list)
    for row in instances:
        if row["latest_collected_date"] is not None:
            by_date[row["latest_collected_date"]].append(row["pk"])
    if not by_date:
        return []
    condition = Q()
    for day, pks in by_date.items():
        condition |= Q(collected_date=day, instance_id__in=pks)
    return (
        DatabaseSizeStat.objects.filter(condition, is_deleted=False)
        .order_by("instance_id", "database_name")
        .values_list("instance_id", "database_name", "size_bytes")
    )


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_safe
def metrics_view(request):
    """Prometheus scrape endpoint; wants `Authorization: Bearer <METRICS_TOKEN>` when that is set."""
    if not _authorized(request):
        response = HttpResponse(
            _("Send the METRICS_TOKEN as 'Authorization: Bearer <token>' to read the metrics.") + "\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    collector = CapacityCollector()
    registry.register(collector)
    families = generate_latest(registry)
    return HttpResponse(collector.database_sizes.encode() + families, content_type=CONTENT_TYPE_PLAIN_0_0_4)
