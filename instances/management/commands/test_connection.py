from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from instances.models import Instance
from instances.services import test_connection


class Command(BaseCommand):
    help = _("Connect to an instance and print its server version (exit 0 on success, 1 on failure).")

    def add_arguments(self, parser):
        parser.add_argument("name", help=_("The instance's name."))

    def handle(self, *args, name, **options):
        try:
            instance = Instance.objects.select_related("credential").get(name=name)
        except Instance.DoesNotExist:
            raise CommandError(_("Unknown instance: %(name)s") % {"name": name}, returncode=2) from None
        result = test_connection(instance)
        if result.success:
            self.stdout.write(
                _("%(name)s: connected in %(ms)d ms, server version %(v)s")
                % {"name": instance.name, "ms": result.elapsed_ms, "v": result.server_version}
            )
            return
        raise CommandError(
            _("%(name)s: connection failed [%(kind)s]: %(err)s")
            % {"name": instance.name, "kind": result.error_kind, "err": result.error},
            returncode=1,
        )
