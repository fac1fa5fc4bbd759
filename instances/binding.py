"""A stored credential is bound to its targets: its password only goes where someone approved.

A *target* is (engine, host, port); an approval of a credential for a target is a
`CredentialTarget` row. `params_for` (the one place a password is decrypted for a connection)
refuses an unapproved target with an `EngineError` of kind `permission`, so neither the API,
the admin, the shell nor a queryset `update()` can send a stored password somewhere new.
Only users with `instances.change_credential` approve: their writes of an instance approve its
target, they add or remove approvals on the credential's admin page, and operators on the
server run `manage.py approve_target`.
"""

from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext as _

from .choices import DEFAULT_PORTS
from .models import CredentialTarget, Instance, normalise_host

APPROVER_PERMISSION = "instances.change_credential"
#: The fields of an instance that say where its credential's password is sent.
TARGET_FIELDS = ("db_type", "host", "port", "credential")


class Target(NamedTuple):
    db_type: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.db_type}://{host}:{self.port}"


def target(db_type: str, host: str, port: int | None) -> Target:
    """The normalised target of these values (an empty port is the engine's default one)."""
    return Target(str(db_type), normalise_host(host), int(port or DEFAULT_PORTS.get(db_type, 0)))


def target_of(instance: Instance) -> Target:
    return target(instance.db_type, instance.host, instance.port)


def may_approve(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(APPROVER_PERMISSION))


def is_approved(credential_id: int, where: Target) -> bool:
    return CredentialTarget.objects.filter(credential_id=credential_id, **where._asdict()).exists()


def not_approved_message(instance: Instance, where: Target | None = None) -> str:
    where = where or target_of(instance)
    return _(
        "The stored credential %(credential)s is not approved for %(target)s (instance %(instance)s), so its "
        "password is not sent there. Only a user with the permission to change credentials "
        "(instances.change_credential) may approve a target: by saving the instance in the admin or the API, "
        "on the credential's page in the admin, or with `manage.py approve_target %(instance)s`."
    ) % {"credential": instance.credential.name, "target": where, "instance": instance.name}


def approval_denial(instance: Instance) -> str:
    """Why the instance's stored password may not be sent to its target, or "" when it may."""
    if instance.credential_id is None:
        return ""
    if is_approved(instance.credential_id, target_of(instance)):
        return ""
    return not_approved_message(instance)


def approve(instance: Instance, user=None, note: str = "") -> tuple[CredentialTarget, bool]:
    """Approve the instance's credential for its current target; (approval, created)."""
    if instance.credential_id is None:
        raise ValueError(f"instance {instance.name} has no credential")
    where = target_of(instance)
    approval, created = CredentialTarget.objects.get_or_create(
        credential_id=instance.credential_id,
        **where._asdict(),
        defaults={"approved_by": user if user is not None and user.is_authenticated else None, "note": note[:200]},
    )
    return approval, created


def write_denial(user, before: Instance | None, after: dict) -> str:
    """Why `user` may not make this write of an instance, or "" when they may.

    `before` is the stored instance (None when creating); `after` holds the written values of
    TARGET_FIELDS (a missing key keeps the stored value). Creating an instance with a stored
    credential, or changing the engine, host, port or credential of one that has a credential
    afterwards, needs `instances.change_credential`. Removing a credential needs nothing.
    """

    def value(field):
        if field in after:
            return after[field]
        return getattr(before, field) if before is not None else None

    credential = value("credential")
    if credential is None or may_approve(user):
        return ""
    where = target(value("db_type") or "", value("host") or "", value("port"))
    if before is None:
        return _(
            "Creating an instance with a stored credential needs the permission to change credentials "
            "(instances.change_credential): the credential's password would be sent to %(target)s. "
            "Create it without a credential and ask a user with that permission to set one."
        ) % {"target": where}
    credential_id = getattr(credential, "pk", credential)
    if credential_id == before.credential_id and where == target_of(before):
        return ""
    return _(
        "Changing the engine, host, port or credential of an instance that uses a stored credential needs the "
        "permission to change credentials (instances.change_credential): the credential's password would be "
        "sent to %(target)s. Ask a user with that permission to make this change."
    ) % {"target": where}
