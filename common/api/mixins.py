"""View mixins and lookup patterns every app's API uses."""

from django.db import transaction

from .. import audit

# Any path segment reaches the view, so a malformed id gets DRF's JSON 404 rather than Django's HTML one.
ANY_ID = "[^/]+"


class AnnotatedWriteMixin:
    """Answer create/update with the object re-read through get_queryset, annotations included."""

    def perform_create(self, serializer):
        serializer.save()
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_update(self, serializer):
        serializer.save()
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class AuditedWriteMixin:
    """Every create, change and delete through the viewset lands in the admin's history (common/audit.py).

    Put it before AnnotatedWriteMixin; each write and its entry are one transaction.
    """

    def perform_create(self, serializer):
        with transaction.atomic():
            super().perform_create(serializer)
            audit.log_addition(self.request.user, serializer.instance)

    def perform_update(self, serializer):
        with transaction.atomic():
            before = audit.snapshot(serializer.instance)
            super().perform_update(serializer)
            audit.log_change(self.request.user, serializer.instance, audit.changed_labels(serializer.instance, before))

    def perform_destroy(self, instance):
        with transaction.atomic():
            audit.log_deletion(self.request.user, instance)  # before: the entry needs the object's key and name
            super().perform_destroy(instance)
