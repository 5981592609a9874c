"""Product and category images at the sizes the pages show (easy-thumbnails).

Each alias of ``settings.THUMBNAIL_ALIASES`` (``card``, ``main``, ``gallery``, ``line``,
``tile``) is made twice: at its size (1x) and at twice its size (2x, for high-density screens;
never upscaled). They are generated once, when an image is uploaded (``catalog.services``, the
admin, ``seed_shop``) or by ``manage.py generate_thumbnails`` for images stored before, and
kept in the default storage next to the uploads (local disk or object storage).

A thumbnail's name is derived from its source name and options
(``thumbs/products/mug.png.300x300_q85_crop-smart.webp``), so a page computes its URLs without
asking the database or the storage whether it exists: rendering costs no query, however many
images a page shows. (easy-thumbnails' own bookkeeping tables, which it reads per image, are not
used.)
"""

import logging
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from easy_thumbnails.alias import aliases
from easy_thumbnails.files import Thumbnailer

logger = logging.getLogger(__name__)

PRODUCT_IMAGE = "catalog.ProductImage.image"
CATEGORY_IMAGE = "catalog.Category.image"
#: Pixel densities each alias is made for (``srcset`` 1x, 2x).
SCALES = (1, 2)


class ThumbnailError(Exception):
    """The source image is missing or is not an image, so no thumbnail can be made of it."""


@dataclass(frozen=True)
class Thumbnail:
    """What an ``<img>`` needs: ``src`` (1x), ``srcset`` (1x and 2x) and the box it fills."""

    src: str
    srcset: str
    width: int
    height: int


def alias_options(*, target: str, alias: str, scale: int = 1) -> dict[str, Any]:
    """Return the easy-thumbnails options of ``alias`` for ``target`` at ``scale`` x its size.

    Raises ``KeyError`` for an alias ``THUMBNAIL_ALIASES`` does not define for ``target``.
    """
    options = aliases.get(alias, target=target)
    if not options:
        raise KeyError(f"No thumbnail alias {alias!r} for {target}")
    width, height = options["size"]
    return {**options, "size": (width * scale, height * scale)}


def target_aliases(*, target: str) -> list[str]:
    """Return the names of the aliases made for every image of ``target``."""
    return sorted(aliases.all(target=target, include_global=False))


def _thumbnailer(source: str, content: bytes | None = None) -> Thumbnailer:
    # The storages are resolved on each call (``default_storage`` follows settings changes).
    file = ContentFile(content) if content is not None else None
    return Thumbnailer(
        file=file,
        name=source,
        source_storage=default_storage,
        thumbnail_storage=default_storage,
        remote_source=file is not None,
    )


def thumbnail_name(*, source: str, target: str, alias: str, scale: int = 1) -> str:
    """Return the storage name of ``alias`` of the stored image ``source`` (no I/O).

    Memoized per process (a pure function of its arguments and the thumbnail settings; the
    memo is cleared when a setting changes): deriving it through easy-thumbnails was a quarter
    of a category page's time (README, "Benchmark").
    """
    return _thumbnail_name(source, target, alias, scale)


@lru_cache(maxsize=8192)
def _thumbnail_name(source: str, target: str, alias: str, scale: int) -> str:
    return _thumbnailer(source).get_thumbnail_name(
        alias_options(target=target, alias=alias, scale=scale)
    )


@receiver(setting_changed)
def _forget_thumbnail_names(*, setting: str, **kwargs: Any) -> None:
    # Names depend on THUMBNAIL_* (aliases, format, namer...) and the storages.
    if setting.startswith("THUMBNAIL") or setting in {"STORAGES", "MEDIA_ROOT", "MEDIA_URL"}:
        _thumbnail_name.cache_clear()


def thumbnail(*, source: str, target: str, alias: str) -> Thumbnail | None:
    """Return the ``<img>`` attributes of ``alias`` of ``source`` (``None`` without a source).

    No database query and no storage lookup: the names are derived, the URLs are the
    storage's (signed URLs for a private bucket are computed locally).
    """
    if not source:
        return None
    width, height = alias_options(target=target, alias=alias)["size"]
    urls = [
        default_storage.url(thumbnail_name(source=source, target=target, alias=alias, scale=s))
        for s in SCALES
    ]
    srcset = ", ".join(f"{url} {scale}x" for url, scale in zip(urls, SCALES, strict=True))
    return Thumbnail(src=urls[0], srcset=srcset, width=width, height=height)


def generate_thumbnails(*, source: str, target: str, force: bool = False) -> list[str]:
    """Make every alias of ``target`` of the stored image ``source``, at each scale.

    Return the names written. Idempotent: a thumbnail already in the storage is kept unless
    ``force`` (then it is replaced). The source is read from the storage once. Raises
    ``ThumbnailError`` if ``source`` is missing or not an image.
    """
    wanted = {
        thumbnail_name(source=source, target=target, alias=alias, scale=scale): (alias, scale)
        for alias in target_aliases(target=target)
        for scale in SCALES
    }
    if not force:
        wanted = {name: spec for name, spec in wanted.items() if not default_storage.exists(name)}
    if not wanted:
        return []
    try:
        with default_storage.open(source, "rb") as file:
            content = file.read()
    except (FileNotFoundError, OSError) as exc:
        raise ThumbnailError(f"Image {source!r} is not in the storage.") from exc
    thumbnailer = _thumbnailer(source, content)
    written = []
    for name, (alias, scale) in wanted.items():
        try:
            made = thumbnailer.generate_thumbnail(
                alias_options(target=target, alias=alias, scale=scale)
            )
        except Exception as exc:  # Pillow raises many types for a file that is no image.
            raise ThumbnailError(f"{source!r} is not an image: {exc}") from exc
        if default_storage.exists(name):
            default_storage.delete(name)
        saved = default_storage.save(name, made)
        if saved != name:  # another process wrote it in between: keep one, under our name
            default_storage.delete(saved)
        written.append(name)
    return written


def _generate_logged(*, source: str, target: str) -> None:
    try:
        generate_thumbnails(source=source, target=target)
    except Exception:
        # The upload itself is kept; `manage.py generate_thumbnails` makes what is missing.
        logger.exception("Could not make the thumbnails of %s", source)


def generate_on_commit(*, source: str, target: str) -> None:
    """Make the thumbnails of ``source`` once the current transaction commits (now outside one).

    A failure (storage down, not an image) is logged, not raised: the upload is kept and
    ``manage.py generate_thumbnails`` makes what is missing.
    """
    if source:
        transaction.on_commit(partial(_generate_logged, source=source, target=target))
