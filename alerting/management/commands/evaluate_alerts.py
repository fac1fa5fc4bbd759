from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from alerting.services import evaluate
from instances.models import Instance


class Command(BaseCommand):
    help = _(
        "Evaluate the active alert rules against the latest collections of the active instances (or the named "
        "ones) and print what fired and what resolved. Webhooks are queued for the task cluster."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--instance",
            action="append",
            default=[],
            metavar="NAME",
            help=_("Evaluate this instance only (repeat for several). Default: every active instance."),
        )

    def handle(self, *args, instance, **options):
        names = list(dict.fromkeys(instance))
        targets = None
        if names:
            targets = list(Instance.objects.filter(name__in=names))
            unknown = sorted(set(names) - {i.name for i in targets})
            if unknown:
                raise CommandError(_("Unknown instance: %(names)s") % {"names": ", ".join(unknown)}, returncode=2)
        result = evaluate(targets)
        for alert in result.fired:
            line = _("FIRING    [%(rule)s] %(message)s") % {"rule": alert.rule.name, "message": alert.message}
            self.stdout.write(line)
        for alert in result.resolved:
            line = _("RESOLVED  [%(rule)s] %(where)s: the condition no longer holds (firing since %(since)s).") % {
                "rule": alert.rule.name,
                "where": alert.instance.name + (f"/{alert.database_name}" if alert.database_name else ""),
                "since": f"{timezone.localtime(alert.first_fired_at):%Y-%m-%d %H:%M}",
            }
            self.stdout.write(line)
        self.stdout.write(
            _(
                "%(rules)d active rule(s) over %(instances)d instance(s): %(fired)d fired, %(firing)d still firing, "
                "%(resolved)d resolved."
            )
            % {
                "rules": result.rules,
                "instances": result.instances,
                "fired": len(result.fired),
                "firing": len(result.still_firing),
                "resolved": len(result.resolved),
            }
        )
