import json
import logging
import sys
import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from capacity.services.collect import collect
from common.formatting import human_bytes
from instances.choices import DbType
from instances.models import Instance
from sync_sessions.choices import RecordStatus, SessionStatus, SyncType


class _DropInstanceFailures(logging.Filter):
    """Drops the collection service's per-instance failure lines while the command prints them itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "instance_failure", False)


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def positive_int(value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        import argparse

        raise argparse.ArgumentTypeError(_("must be a whole number of at least 1, got %(v)r") % {"v": value})
    return number


class Command(BaseCommand):
    help = _(
        "Collect database sizes of the active instances (or the named ones) in one sync session. "
        "Exit 0 when every selected instance was collected, 1 when any was not (failed or skipped), "
        "2 on bad arguments."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--instance",
            action="append",
            default=[],
            metavar="NAME",
            help=_("Collect this instance (repeat for several). Default: every active instance."),
        )
        parser.add_argument("--db-type", choices=DbType.values, help=_("Only instances of this database type."))
        parser.add_argument("--concurrency", type=positive_int, help=_("Instances collected at once."))
        parser.add_argument("--json", action="store_true", help=_("End with one line of JSON describing the run."))

    def handle(self, *args, instance, db_type, concurrency, json: bool, **options):
        names = list(dict.fromkeys(instance))
        if names:
            found = {i.name: i for i in Instance.objects.filter(name__in=names)}
            unknown = [n for n in names if n not in found]
            if unknown:
                raise CommandError(_("Unknown instance: %(names)s") % {"names": ", ".join(unknown)}, returncode=2)
            targets = [found[n] for n in names]
            if db_type:
                targets = [i for i in targets if i.db_type == db_type]
        else:
            qs = Instance.objects.filter(is_active=True).order_by("name")
            if db_type:
                qs = qs.filter(db_type=db_type)
            targets = list(qs)

        progress_out = sys.stderr if json else self.stdout
        if not targets:
            progress_out.write(_("No instance to collect.") + "\n")

        def progress(record, done, total):
            line = _("[%(done)d/%(total)d] %(name)s: %(status)s") % {
                "done": done,
                "total": total,
                "name": record.instance_name,
                "status": record.get_status_display(),
            }
            if record.status == RecordStatus.COMPLETED:
                line += ngettext(
                    ", %(n)d database, %(size)s", ", %(n)d databases, %(size)s", record.databases_count
                ) % {
                    "n": record.databases_count,
                    "size": human_bytes(record.total_size_bytes),
                }
            elif record.error_kind:
                line += f" [{record.error_kind}]"  # the reason is printed once, in full, after the table
            progress_out.write(line + "\n")
            progress_out.flush()

        # Each failure is on its record and printed below; the service's log line would say it again.
        quiet = _DropInstanceFailures()
        collect_logger = logging.getLogger("capacity.services.attempts")
        collect_logger.addFilter(quiet)
        try:
            session = collect(targets, sync_type=SyncType.MANUAL, concurrency=concurrency, progress=progress)
        finally:
            collect_logger.removeFilter(quiet)
        records = list(session.records.order_by("instance_name"))
        self._summary(session, records)
        if json:
            self.stdout.write(self._json(session, records))
        if session.status != SessionStatus.COMPLETED:
            # Skipped (another run holds it, inactive, cancelled) is not collected either.
            sys.exit(1)

    def _summary(self, session, records):
        out = self.stdout
        header = (_("instance"), _("status"), _("databases"), _("total size"), _("error"))
        rows = [
            (
                r.instance_name,
                r.get_status_display(),
                str(r.databases_count) if r.status == RecordStatus.COMPLETED else "-",
                human_bytes(r.total_size_bytes) if r.status == RecordStatus.COMPLETED else "-",
                # The kind only: the reason follows the table, once and in full.
                f"[{r.error_kind}]" if r.error_kind else ("*" if r.error else ""),
            )
            for r in records
        ]
        widths = [max(display_width(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
        for row in [header, *rows]:
            out.write("  ".join(pad(str(v), w) for v, w in zip(row, widths, strict=False)).rstrip())
        reasons = [r for r in records if r.error]
        if reasons:
            out.write("")
            for r in reasons:
                kind = f" [{r.error_kind}]" if r.error_kind else ""
                out.write(f"  {r.instance_name}{kind}: {r.error}")
            out.write("")
        out.write(
            ngettext(
                "Session %(id)s: %(status)s — %(ok)d succeeded, %(failed)d failed, %(skipped)d skipped; "
                "%(dbs)d database, %(size)s in total.",
                "Session %(id)s: %(status)s — %(ok)d succeeded, %(failed)d failed, %(skipped)d skipped; "
                "%(dbs)d databases, %(size)s in total.",
                session.total_databases,
            )
            % {
                "id": session.session_id,
                "status": session.get_status_display(),
                "ok": session.successful_instances,
                "failed": session.failed_instances,
                "skipped": session.skipped_instances,
                "dbs": session.total_databases,
                "size": human_bytes(session.total_size_bytes),
            }
        )

    @staticmethod
    def _json(session, records) -> str:
        return json.dumps(
            {
                "session_id": str(session.session_id),
                "status": session.status,
                "instances": [
                    {
                        "name": r.instance_name,
                        "status": r.status,
                        "databases_count": r.databases_count,
                        "total_size_bytes": r.total_size_bytes,
                        "error": r.error or None,
                        "error_kind": r.error_kind or None,
                    }
                    for r in records
                ],
            },
            ensure_ascii=False,
        )
