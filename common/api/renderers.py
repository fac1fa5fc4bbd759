"""CSV for spreadsheets: a DRF renderer, and the view mixin that exports every filtered row with it.

`?format=csv` (DRF's URL_FORMAT_OVERRIDE) or `Accept: text/csv` picks the renderer; JSON stays the
default. The file starts with a UTF-8 byte order mark so Excel reads Chinese database names right.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from urllib.parse import quote

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

BOM = "\ufeff"
# A spreadsheet takes a cell starting with one of these for a formula (CSV injection): such text is
# written with a leading apostrophe, which spreadsheets show as plain text. Numbers are never touched.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_FILENAME = re.compile(r"[^\w.-]+")


def _cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    if isinstance(value, int | float):
        return value
    return str(value)


class CSVRenderer(BaseRenderer):
    """Rows (dicts) as CSV with a header row; a paginated body is reduced to its `results`."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, Mapping):
            data = data["results"] if isinstance(data.get("results"), list) else [data]
        rows = list(data)
        view = (renderer_context or {}).get("view")
        header = view.get_csv_header() if hasattr(view, "get_csv_header") else None
        if header is None:
            header = list(dict.fromkeys(key for row in rows for key in row))
        return b"".join(self.stream(header, rows))

    def stream(self, header: list[str], rows: Iterable[Mapping]) -> Iterator[bytes]:
        """The file in pieces: BOM and header first, then rows in blocks, for a streaming response."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write(BOM)
        if header:
            writer.writerow(header)
        rows = iter(rows)
        while True:
            block = list(islice(rows, 500))
            for row in block:
                writer.writerow([_cell(row.get(name)) for name in header])
            text = buffer.getvalue()
            if text:
                yield text.encode(self.charset)
                buffer.seek(0)
                buffer.truncate()
            if not block:
                return


def attachment_header(filename: str) -> str:
    """Content-Disposition for a download, with an ASCII fallback name and the exact UTF-8 one (RFC 6266)."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=utf-8''{quote(filename)}"
    return header


class CSVExportMixin:
    """A list view that also answers CSV, with every filtered row rather than one page.

    Asked for CSV, `paginate_queryset` keeps the whole filtered queryset instead of cutting a page and
    `get_paginated_response` streams it through the view's serializer, a block of rows at a time, so a
    view that paginates the usual way (ListModelMixin, or an action calling those two) needs no change.
    An export larger than `csv_max_rows` is refused with a 400 asking for narrower filters, and every
    error (bad filter, permission, unknown id) is answered in JSON whatever format was asked for.
    """

    csv_filename = "export"
    # On a viewset, the actions that offer CSV; other actions keep JSON only.
    csv_actions: tuple[str, ...] = ("list",)
    csv_max_rows = 100_000
    csv_chunk_size = 2000

    def get_renderers(self):
        renderers = super().get_renderers()
        action = getattr(self, "action", None)
        if action is None or action in self.csv_actions:
            renderers.append(CSVRenderer())
        return renderers

    def wants_csv(self) -> bool:
        request = getattr(self, "request", None)
        return isinstance(getattr(request, "accepted_renderer", None), CSVRenderer)

    def get_csv_header(self) -> list[str] | None:
        if hasattr(self, "get_serializer"):
            return list(self.get_serializer().fields)
        return None

    def get_csv_filename(self) -> str:
        """`<instance>-<what>-<today>.csv`, the instance being the one the URL names, if any."""
        owner = getattr(self, "parent_instance", None) or getattr(self, "instance", None)
        stem = f"{owner}-{self.csv_filename}" if owner is not None else self.csv_filename
        stem = _UNSAFE_FILENAME.sub("_", stem).strip("_.") or "export"
        return f"{stem}-{timezone.localdate().isoformat()}.csv"

    def csv_response(self, header: list[str], rows: Iterable[Mapping]) -> StreamingHttpResponse:
        renderer = CSVRenderer()
        return StreamingHttpResponse(
            renderer.stream(header, rows), content_type=f"{renderer.media_type}; charset={renderer.charset}"
        )

    def paginate_queryset(self, queryset):
        if self.wants_csv():
            self._csv_queryset = queryset
            return []
        return super().paginate_queryset(queryset)

    def get_paginated_response(self, data):
        if self.wants_csv():
            return self.csv_response(self.get_csv_header(), self._serialized_rows(self._csv_queryset))
        return super().get_paginated_response(data)

    def _serialized_rows(self, queryset) -> Iterator[Mapping]:
        # Checked before the first byte goes out, while the answer can still be a 400.
        if list(queryset[self.csv_max_rows : self.csv_max_rows + 1]):
            raise ValidationError(
                {
                    "detail": _(
                        "The export has more than %(limit)s rows. Narrow it with filters (start_date, end_date, "
                        "database_name, …) or read the JSON pages."
                    )
                    % {"limit": f"{self.csv_max_rows:,}"}
                }
            )
        return self._serialize_in_blocks(queryset[: self.csv_max_rows])

    def _serialize_in_blocks(self, queryset) -> Iterator[Mapping]:
        rows = queryset.iterator(chunk_size=self.csv_chunk_size)
        while block := list(islice(rows, self.csv_chunk_size)):
            yield from self.get_serializer(block, many=True).data

    def finalize_response(self, request, response, *args, **kwargs):
        if self.wants_csv():
            if isinstance(response, Response) and response.status_code >= 400:
                # A script reading the export gets the reason it can parse, not an error dressed as rows.
                request.accepted_renderer = JSONRenderer()
                request.accepted_media_type = JSONRenderer.media_type
            elif 200 <= response.status_code < 300:
                response["Content-Disposition"] = attachment_header(self.get_csv_filename())
        return super().finalize_response(request, response, *args, **kwargs)
