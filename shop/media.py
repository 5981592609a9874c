"""Serve uploaded files (``MEDIA_URL``) from local storage, in production as in development.

With ``STORAGE_BACKEND=local`` nothing else serves ``/media/`` (WhiteNoise serves only the
static files it found at start-up), so the app does: ``serve_media`` streams a file of the
default ``FileSystemStorage`` (``sendfile`` under gunicorn) with its content type, ``ETag`` /
``Last-Modified`` (``304`` on revalidation) and ``Cache-Control``. It answers ``404`` for
anything that is not a regular file inside ``MEDIA_ROOT``: missing files, directories, hidden
files, ``..`` or absolute paths, symlinks that lead outside. With object storage (S3) the page
links the bucket directly and this route answers ``404``.
"""

import mimetypes
import os
import posixpath
import re
import stat
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, storages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponseBase,
    HttpResponseNotFound,
)
from django.urls import URLPattern, re_path
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_safe

#: How long browsers and proxies may reuse a media file without asking again.
MAX_AGE = 24 * 60 * 60
#: Types shown in the page; anything else is sent as a download.
INLINE_TYPES = frozenset({"image/avif", "image/gif", "image/jpeg", "image/png", "image/webp"})
#: A media file is data, never a document: nothing in it may run or load anything.
MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _safe_name(path: str) -> str | None:
    """Return ``path`` if it is a plain relative name (no ``..``, ``.``, hidden or empty parts)."""
    if not path or "\\" in path or "\x00" in path or path.startswith("/"):
        return None
    parts = path.split("/")
    if any(not part or part.startswith(".") for part in parts):
        return None
    return path if posixpath.normpath(path) == path else None


def _local_file(path: str) -> tuple[str, os.stat_result]:
    storage = storages["default"]
    if not isinstance(storage, FileSystemStorage):
        raise Http404("Media files are not on local storage.")
    name = _safe_name(path)
    if name is None:
        raise Http404("Not a media file.")
    try:
        full_path = storage.path(name)  # safe_join: refuses to leave the storage's location
    except SuspiciousFileOperation as exc:
        raise Http404("Not a media file.") from exc
    root = os.path.realpath(storage.location)
    real_path = os.path.realpath(full_path)
    if not real_path.startswith(root + os.sep):
        raise Http404("Not a media file.")
    try:
        stat_result = os.stat(real_path)
    except OSError as exc:
        raise Http404("No such media file.") from exc
    if not stat.S_ISREG(stat_result.st_mode):
        raise Http404("No such media file.")
    return real_path, stat_result


@require_safe
def serve_media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Return the uploaded file ``path`` of the local media storage (GET/HEAD), or a 404.

    The 404 is a few bytes of text, not the shop's page: an ``<img>`` shows neither, and
    probing ``/media/`` then costs no database query.
    """
    try:
        full_path, stat_result = _local_file(path)
    except Http404:
        return HttpResponseNotFound("Not found", content_type="text/plain; charset=utf-8")
    etag = f'"{stat_result.st_mtime_ns:x}-{stat_result.st_size:x}"'
    last_modified = int(stat_result.st_mtime)
    response: HttpResponseBase | None = get_conditional_response(
        request, etag=etag, last_modified=last_modified
    )
    if response is None:
        content_type, encoding = mimetypes.guess_type(full_path)
        inline = content_type in INLINE_TYPES and encoding is None
        response = FileResponse(
            open(full_path, "rb"),  # noqa: SIM115 - FileResponse closes it
            content_type=content_type if inline else "application/octet-stream",
            as_attachment=not inline,
            filename="" if inline else os.path.basename(full_path),
        )
        response["Last-Modified"] = http_date(last_modified)
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


def media_urlpatterns() -> list[URLPattern]:
    """Return the ``MEDIA_URL`` route, or none when media live at another origin (a CDN)."""
    prefix = settings.MEDIA_URL or ""
    parts = urlsplit(prefix)
    if parts.scheme or parts.netloc or not prefix.strip("/"):
        return []
    return [
        re_path(rf"^{re.escape(prefix.lstrip('/'))}(?P<path>.*)$", serve_media, name="media"),
    ]
