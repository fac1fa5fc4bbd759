"""View mixins and lookup patterns every app's API uses."""

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
