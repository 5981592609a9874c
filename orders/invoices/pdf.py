"""PDF rendering of invoices and credit notes (WeasyPrint), with no network access.

The document is an HTML template (``orders/invoice_pdf.html``) rendered by WeasyPrint. The
only resources it may load are our own static files: ``StaticFilesFetcher`` answers URLs
under ``STATIC_URL`` from the static files (finders, then ``STATIC_ROOT``) and refuses every
other URL (http, file, data), so rendering never reaches the network or the file system
outside the static files. Fonts come from the system (Liberation, Debian's fonts-liberation).
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from orders.invoices.documents import InvoiceDocument, document_for
from orders.models import Invoice

TEMPLATE = "orders/invoice_pdf.html"
# Relative and root-relative URLs in the template resolve against this; it never leaves us.
BASE_URL = "https://shop.invalid/"


class ResourceRefused(ValueError):
    """A document asked for something other than one of our static files."""


def static_file_path(url: str) -> Path:
    """Return the file behind ``url`` when it names one of our static files, else raise
    ``ResourceRefused``."""
    parts = urlsplit(url)
    base = urlsplit(BASE_URL)
    static_prefix = str(settings.STATIC_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        raise ResourceRefused(f"Not one of our static files: {url[:200]}")
    path = unquote(parts.path)
    if not path.startswith(static_prefix) or ".." in path.split("/"):
        raise ResourceRefused(f"Not one of our static files: {url[:200]}")
    name = path[len(static_prefix) :]
    found = finders.find(name)
    if not found and settings.STATIC_ROOT:
        candidate = Path(settings.STATIC_ROOT) / name
        found = str(candidate) if candidate.is_file() else None
    if not found:
        raise ResourceRefused(f"No such static file: {name[:200]}")
    return Path(found if isinstance(found, str) else found[0])


class StaticFilesFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves our static files and nothing else."""

    def fetch(self, url, headers=None):
        path = static_file_path(url)
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime_type})


def html_to_pdf(*, html: str) -> bytes:
    """Return ``html`` rendered as a PDF; resources only from our static files."""
    pdf = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher()).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return pdf


def render_document_pdf(*, document: InvoiceDocument) -> bytes:
    """Return the PDF of ``document`` (deterministic for one stored record)."""
    html = render_to_string(TEMPLATE, {"doc": document, "STATIC_URL": settings.STATIC_URL})
    return html_to_pdf(html=html)


def invoice_pdf_response(*, invoice: Invoice) -> HttpResponse:
    """Return an ``application/pdf`` response of ``invoice`` (or credit note), named after its
    number; shown inline, so a browser opens it and "save" keeps the number as file name."""
    document = document_for(invoice=invoice)
    response = HttpResponse(render_document_pdf(document=document), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
