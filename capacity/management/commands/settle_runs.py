from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from capacity.services.stopped import settle_stopped_runs


def _timestamp(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise CommandError(
            _("--started-since wants seconds since the epoch (date +%%s), not %(value)r.") % {"value": value},
            returncode=2,
        ) from exc


class Command(BaseCommand):
    help = _(
        "Fail the unfinished instances of the running collections as interrupted attempts (kind timeout). "
        "scripts/run.sh calls it after stopping the web server and the task cluster."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--started-since",
            metavar="EPOCH_SECONDS",
            help=_("Only runs started at or after this time (when the stopped processes started). Default: all."),
        )

    def handle(self, *args, started_since=None, **options):
        since = _timestamp(started_since) if started_since else None
        settled = settle_stopped_runs(since)
        if settled:
            self.stdout.write(
                ngettext(
                    "%(count)d interrupted run settled.",
                    "%(count)d interrupted runs settled.",
                    len(settled),
                )
                % {"count": len(settled)}
            )
