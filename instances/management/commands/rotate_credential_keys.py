from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from instances import crypto
from instances.models import Credential


class Command(BaseCommand):
    help = _(
        "Re-encrypt every stored password with the first key of CREDENTIAL_KEYS. Put the new key first, "
        "run this, then remove the old keys."
    )

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic():
            for credential in Credential.objects.select_for_update().exclude(password=""):
                try:
                    token = crypto.rotate(credential.password)
                except crypto.CredentialDecryptError:
                    raise CommandError(
                        _("Credential %(name)s cannot be decrypted with any configured key; nothing was changed.")
                        % {"name": credential.name}
                    ) from None
                Credential.objects.filter(pk=credential.pk).update(password=token)
                rotated += 1
        self.stdout.write(
            ngettext(
                "Re-encrypted %(n)d password with the newest key.",
                "Re-encrypted %(n)d passwords with the newest key.",
                rotated,
            )
            % {"n": rotated}
        )
