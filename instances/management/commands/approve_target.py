import getpass

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from instances import binding
from instances.models import Instance


class Command(BaseCommand):
    help = _(
        "Approve each named instance's credential for the instance's engine, host and port, so the stored "
        "password may be sent there (for instances created or moved outside the admin and the API)."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="+", metavar="NAME", help=_("The instances' names."))

    def handle(self, *args, names, **options):
        instances = {i.name: i for i in Instance.objects.select_related("credential").filter(name__in=names)}
        unknown = [name for name in names if name not in instances]
        if unknown:
            raise CommandError(_("Unknown instance: %(names)s") % {"names": ", ".join(unknown)}, returncode=2)
        without = [name for name in names if instances[name].credential_id is None]
        if without:
            raise CommandError(
                _("No credential to approve on instance: %(names)s") % {"names": ", ".join(without)}, returncode=1
            )
        try:
            operator = getpass.getuser()
        except (KeyError, OSError):
            operator = "?"
        for name in dict.fromkeys(names):
            instance = instances[name]
            # Stored data, like the notes "api", "admin" and "migration": not translated.
            approval, created = binding.approve(instance, note=f"manage.py approve_target by {operator}")
            if created:
                message = _("%(instance)s: approved credential %(credential)s for %(target)s.")
            else:
                message = _("%(instance)s: credential %(credential)s was already approved for %(target)s.")
            self.stdout.write(
                message % {"instance": instance.name, "credential": instance.credential.name, "target": approval}
            )
