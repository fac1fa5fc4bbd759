"""The one history of changes: what the API writes goes into the admin's LogEntry, as the admin writes it.

Entries say who, when, which object and which fields (their names only, never a value: a password,
a webhook token or a URL's query never reach the log). The message format is the admin's own JSON,
so an object's *History* page in the admin shows API changes beside form changes, translated.
Events that are not edits (a connection test) are plain-text messages on the same object.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import models
from django.utils import translation
from django.utils.text import capfirst


def _user_id(user) -> int | None:
    return user.pk if getattr(user, "is_authenticated", False) else None


def audited_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields an edit can change: concrete, not the key, not the timestamps kept by the model itself."""
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)
    ]


def snapshot(obj: models.Model) -> dict:
    return {f.attname: f.value_from_object(obj) for f in audited_fields(type(obj))}


def changed_labels(obj: models.Model, before: dict) -> list[str]:
    """Untranslated labels of the fields whose value differs from `before` (translated when the log is read)."""
    after = snapshot(obj)
    with translation.override(None):
        return [
            capfirst(str(f.verbose_name))
            for f in audited_fields(type(obj))
            if before.get(f.attname) != after.get(f.attname)
        ]


def log_addition(user, obj) -> LogEntry | None:
    return _log(user, obj, ADDITION, [{"added": {}}])


def log_change(user, obj, labels: list[str]) -> LogEntry | None:
    if not labels:
        return None  # the admin logs "No fields changed." too; an API PATCH that changed nothing is not a change
    return _log(user, obj, CHANGE, [{"changed": {"fields": labels}}])


def log_deletion(user, obj) -> LogEntry | None:
    return _log(user, obj, DELETION, "")


def log_event(user, obj, message: str) -> LogEntry | None:
    """A plain message on the object's history (e.g. a connection test), in the site's language."""
    return _log(user, obj, CHANGE, str(message))


def site_language():
    return translation.override(settings.LANGUAGE_CODE)


def _log(user, obj, flag, message) -> LogEntry | None:
    user_id = _user_id(user)
    if user_id is None:  # LogEntry needs a user; anonymous writes are refused before they get here
        return None
    return LogEntry.objects.log_actions(user_id, [obj], flag, message, single_object=True)
