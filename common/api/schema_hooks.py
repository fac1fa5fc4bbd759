"""drf-spectacular hooks of the project's OpenAPI schema."""

from django.utils.encoding import force_str


def translated_info(result, generator, request, public):
    """The schema's title and description in the request's language, as plain strings.

    SPECTACULAR_SETTINGS gives them lazily translated; they are resolved here, while the request's
    language (Accept-Language, or the schema view's ?lang=) is active, so every renderer (YAML too)
    gets text.
    """
    info = result.get("info", {})
    for key in ("title", "description"):
        if key in info:
            info[key] = force_str(info[key])
    return result
