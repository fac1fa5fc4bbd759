"""OpenAPI postprocessing: document the error answers every operation can give (drf-spectacular hook).

The views answer errors through common.api.exceptions: `{"detail": "…"}` for 401, 403, 404, 409 and 413,
and for 400 either that or `{"field": ["message", …]}` naming each bad field or parameter. Operations that
declare an answer for a status themselves (test-connection, sync-capacity) keep theirs.
"""

from django.utils.translation import gettext_lazy as _

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": _("What went wrong.")}},
    "required": ["detail"],
}
# {"detail": "…"} or {"<field or parameter>": ["message", …], …}
VALIDATION_ERROR = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {}},
            {"type": "object"},
        ]
    },
}
# Deleting what others still point at.
CONFLICTS = {("/api/credentials/{id}/", "delete")}
METHODS = {"get", "post", "put", "patch", "delete"}


def _answer(description, ref):
    return {"description": str(description), "content": {"application/json": {"schema": {"$ref": ref}}}}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    error, invalid = "#/components/schemas/Error", "#/components/schemas/ValidationError"
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            wanted = {
                "401": _answer(_("Not signed in, or a wrong token."), error),
                "403": _answer(_("Signed in without the permission this needs."), error),
            }
            if operation.get("parameters") or operation.get("requestBody"):
                wanted["400"] = _answer(_("A bad parameter or field, named in the answer."), invalid)
            if "{" in path:
                wanted["404"] = _answer(_("Nothing with that id."), error)
            if operation.get("requestBody"):
                wanted["413"] = _answer(_("The request body is larger than API_MAX_BODY_BYTES."), error)
            if (path, method) in CONFLICTS:
                wanted["409"] = _answer(_("It is still in use; the answer names by what."), error)
            for code, answer in wanted.items():
                responses.setdefault(code, answer)
    return result
