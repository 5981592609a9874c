"""What every CSV/XLSX import and export in the back office shares (django-import-export).

Big exports do not go through the library's in-memory export: ``streamed_csv_response``
writes a resource's rows to the response as they are read (``iterator``), so any number of
orders or customers download in constant memory.
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.resources import Resource

#: The formats staff import and export (spreadsheets and CSV).
SPREADSHEET_FORMATS = [CSV, XLSX]
STREAM_CHUNK_SIZE = 2000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose ``write`` returns the line (``csv.writer`` into a stream)."""

    def write(self, value: str) -> str:
        return value


def _safe_cell(value: object) -> object:
    # Spreadsheet apps run cells starting with these as formulas: customer data must not.
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def stream_rows(*, resource: Resource, queryset: QuerySet) -> Iterator[str]:
    """Yield CSV lines: ``resource``'s export headers, then one line per row of ``queryset``
    (read in chunks with ``iterator``, so memory does not grow with the export)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(resource.get_export_headers())
    rows: Iterable = queryset.iterator(chunk_size=STREAM_CHUNK_SIZE)
    for instance in rows:
        yield writer.writerow([_safe_cell(v) for v in resource.export_resource(instance)])


def streamed_csv_response(
    *, resource: Resource, queryset: QuerySet, name: str, now: datetime | None = None
) -> StreamingHttpResponse:
    """Return a CSV download of ``queryset`` through ``resource``, streamed row by row."""
    stamp = (now or timezone.now()).strftime("%Y-%m-%d-%H%M")
    response = StreamingHttpResponse(
        stream_rows(resource=resource, queryset=queryset), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


class StreamedExportMixin(ExportMixin):
    """django-import-export's "Export" plus "Download all as CSV": every row the changelist
    shows (its search and filters), streamed (``streamed_csv_response``)."""

    formats = SPREADSHEET_FORMATS
    import_export_change_list_template = "admin/shop/change_list_export_streamed.html"
    #: The download's file name (before the timestamp).
    export_name = "export"

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "export-csv/",
                self.admin_site.admin_view(self.export_csv_view),
                name=f"{opts.app_label}_{opts.model_name}_export_csv",
            ),
            *super().get_urls(),
        ]

    def export_csv_view(self, request: HttpRequest) -> StreamingHttpResponse:
        if not self.has_export_permission(request):
            raise PermissionDenied
        queryset = self.get_changelist_instance(request).get_queryset(request)
        resource = self.get_export_resource_classes(request)[0](
            **self.get_export_resource_kwargs(request)
        )
        return streamed_csv_response(resource=resource, queryset=queryset, name=self.export_name)
